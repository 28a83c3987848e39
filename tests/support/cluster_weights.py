"""Run as every worker of a 2-worker cluster (`tf_lvae.runs.loopback`): trains a small run
for one epoch, the chief through `train_run` (into ./run), the other worker through
`train_worker`, which saves its trained model's and optimizer's variables to ./weights.npz
in the order of a checkpoint (model_0.., optimizer_0..)."""

import numpy as np

from tf_lvae.config import TrainingConfig
from tf_lvae.runs.cluster import is_chief
from tf_lvae.runs.distribute import make_strategy

STRATEGY = make_strategy(TrainingConfig(strategy="multiworker"))  # before anything else

from tf_lvae.data import load_dataset  # noqa: E402
from tf_lvae.runs.checkpoints import checkpoint_variables  # noqa: E402
from tf_lvae.runs.configure import configure_run  # noqa: E402
from tf_lvae.runs.run_dir import RunDir  # noqa: E402
from tf_lvae.runs.train import train_run, train_worker  # noqa: E402

if is_chief(STRATEGY):
    data = load_dataset("mnist-sample")
    run = RunDir("run")
    run.write_config(
        configure_run(
            "mnist-sample",
            data,
            model={"latent_dims": (4, 2), "hidden_dims": (16, 8)},
            training={
                "epochs": 1,
                "warmup_epochs": 1,
                "strategy": "multiworker",
                "jit_compile": False,
            },
            eval_every=0,
            unit_kl_examples=0,
            final_iw_samples=10,
        )
    )
    train_run(run, data, print_fn=lambda *_: None, strategy=STRATEGY)
else:
    model = train_worker(STRATEGY, print_fn=lambda *_: None)
    np.savez("weights.npz", *[np.asarray(v.numpy()) for v in checkpoint_variables(model)])
