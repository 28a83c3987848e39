"""Run as every worker of a 2-worker cluster (`tf_lvae.runs.loopback`): trains a small
run for one epoch through `fit_run` (the chief with its run directory, the other worker
without) and saves this worker's model and optimizer variables to weights.npz in its
working folder."""

import numpy as np

from tf_lvae.config import TrainingConfig
from tf_lvae.runs.cluster import is_chief, share_config
from tf_lvae.runs.distribute import make_strategy

STRATEGY = make_strategy(TrainingConfig(strategy="multiworker"))  # before anything else

from tf_lvae.data import load_dataset  # noqa: E402
from tf_lvae.data.splits import load_run_data  # noqa: E402
from tf_lvae.runs.checkpoints import checkpoint_variables  # noqa: E402
from tf_lvae.runs.configure import configure_run  # noqa: E402
from tf_lvae.runs.run_dir import RunDir  # noqa: E402
from tf_lvae.runs.train import fit_run  # noqa: E402

data = load_dataset("mnist-sample")
config = None
run = None
if is_chief(STRATEGY):
    config = configure_run(
        "mnist-sample",
        data,
        model={"latent_dims": (4, 2), "hidden_dims": (16, 8)},
        training={"epochs": 1, "warmup_epochs": 1, "strategy": "multiworker"},
        eval_every=0,
        unit_kl_examples=0,
    )
    run = RunDir("run")
    run.write_config(config)
config = share_config(STRATEGY, config)
data = load_run_data(config, data)
model = fit_run(run, config, data, print_fn=lambda *_: None, strategy=STRATEGY)
np.savez("weights.npz", *[np.asarray(v.numpy()) for v in checkpoint_variables(model)])
