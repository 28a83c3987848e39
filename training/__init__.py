"""The commands: fit, evaluate, plots, reproduce (thin: parse arguments, call tf_lvae)."""
