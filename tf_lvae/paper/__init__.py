"""The paper's experiments (Table 2, Figure 3, Table 3) and their reproduction:

- `experiments`: the model variants, depths and the paper's numbers, as data.
- `settings`: the budget and settings of a reproduction; where each run lives.
- `runner`: the run config of every (variant, depth); trains and evaluates them, resumably.
- `tables`: the results beside the paper's numbers, one function per table kind.
"""
