"""python -m training.fit: train a Ladder VAE or deep VAE with the paper's settings.

Defaults are the paper's settings for the dataset (docs/method.md §6): `--dataset mnist` alone
trains the 5-layer LVAE+BN+WU. Everything the run writes goes to --out (see
tf_lvae/run_dir.py); `--resume` continues it after any interruption and
`--finetune` continues a finished run with the paper's fine-tuning.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence

from tf_lvae.cli import (
    ArgumentParser,
    int_list,
    non_negative_int,
    positive_float,
    positive_int,
    run_command,
)
from tf_lvae.config import PAPER_HIDDEN_DIMS, ModelConfig, finetune_config, preset
from tf_lvae.data import DATASET_NAMES, DatasetArrays, load_dataset
from tf_lvae.run_dir import RunConfig, RunDir
from tf_lvae.trainer import train_run

PRESET_OF = {"norb": "norb", "omniglot": "omniglot"}  # every other dataset: the mnist preset


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python -m training.fit", description=__doc__.split("\n")[0])
    p.add_argument(
        "--dataset",
        help=f"one of {', '.join(DATASET_NAMES)} (npz: x_train, x_test arrays); "
        "required for a new run",
    )
    p.add_argument("--data-dir", help="folder with the original files or a tfds data_dir")
    p.add_argument("--out", help="run directory (default: runs/DATASET-MODEL-LAYERS)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument(
        "--finetune",
        action="store_true",
        help="fine-tune the finished run in --out (into OUT/finetune): --epochs more epochs "
        "(default 2000), lr x 0.75 every 200 epochs, 10 MC and 10 IW samples",
    )
    m = p.add_argument_group("model (default: the paper's for the dataset)")
    m.add_argument("--model", choices=("lvae", "vae"), default="lvae")
    sizes = m.add_mutually_exclusive_group()
    sizes.add_argument("--layers", type=positive_int, help="latent layers, 1..5 (default 5)")
    sizes.add_argument("--latent-dims", type=int_list, help="e.g. 64,32,16")
    m.add_argument("--hidden-dims", type=int_list, help="MLP widths, one per latent layer")
    m.add_argument("--no-batch-norm", action="store_true")
    m.add_argument("--top-down", choices=("separate", "shared"), default="separate")
    m.add_argument("--likelihood", choices=("bernoulli", "gaussian"), help="default: data's")
    m.add_argument(
        "--no-dequantize",
        action="store_true",
        help="Gaussian likelihood on 8-bit images: train on the stored values instead of "
        "adding uniform dequantization noise (the default, as the authors)",
    )
    t = p.add_argument_group("training (default: the paper's for the dataset)")
    t.add_argument("--epochs", type=non_negative_int)
    t.add_argument("--warmup-epochs", type=non_negative_int)
    t.add_argument("--lr", type=positive_float)
    t.add_argument("--batch-size", type=positive_int)
    t.add_argument("--mc-samples", type=positive_int)
    t.add_argument("--iw-samples", type=positive_int)
    t.add_argument("--seed", type=non_negative_int)
    t.add_argument("--steps-per-execution", type=positive_int, help="speed only (default: 32)")
    t.add_argument("--no-xla", action="store_true", help="speed only: no XLA compilation")
    e = p.add_argument_group("evaluation")
    e.add_argument("--validation", type=float, default=0, help="held-out count or fraction")
    e.add_argument(
        "--monitor-every",
        type=positive_int,
        default=5,
        help="record the test ELBO and the per-unit KL every N epochs (default 5)",
    )
    e.add_argument(
        "--eval-every", type=non_negative_int, default=100, help="test IW bound every N epochs"
    )
    e.add_argument("--eval-iw-samples", type=positive_int, default=100)
    e.add_argument("--final-iw-samples", type=positive_int, default=5000)
    e.add_argument("--unit-kl-examples", type=non_negative_int, default=1000)
    return p


def model_config(args, data: DatasetArrays) -> ModelConfig:
    """The paper's model for the dataset, changed by the model arguments."""
    if args.hidden_dims and not args.latent_dims:
        raise ValueError("--hidden-dims needs --latent-dims (one width per latent layer)")
    layers = args.layers or 5
    if args.layers and not 1 <= layers <= 5:
        raise ValueError(f"--layers must be 1..5, got {layers}; use --latent-dims for others")
    base = preset(PRESET_OF.get(args.dataset, "mnist"), layers, args.model).model
    changes = {
        "input_shape": data.image_shape,
        "likelihood": args.likelihood or data.likelihood,
        "batch_norm": not args.no_batch_norm,
        "top_down": args.top_down,
    }
    if args.latent_dims:
        hidden = args.hidden_dims
        if hidden is None and len(args.latent_dims) > len(PAPER_HIDDEN_DIMS):
            raise ValueError(
                f"{len(args.latent_dims)} latent layers: give --hidden-dims too "
                f"(the paper's widths cover {len(PAPER_HIDDEN_DIMS)})"
            )
        changes["latent_dims"] = args.latent_dims
        changes["hidden_dims"] = hidden or PAPER_HIDDEN_DIMS[: len(args.latent_dims)]
    return dataclasses.replace(base, **changes)


def run_config(args, data: DatasetArrays) -> RunConfig:
    """The run's settings: the dataset's preset, changed by the arguments."""
    model = model_config(args, data)
    training = preset(PRESET_OF.get(args.dataset, "mnist")).training
    overrides = {
        "epochs": args.epochs,
        "warmup_epochs": args.warmup_epochs,
        "learning_rate": args.lr,
        "batch_size": args.batch_size,
        "mc_samples": args.mc_samples,
        "iw_samples": args.iw_samples,
        "seed": args.seed,
        "steps_per_execution": args.steps_per_execution,
    }
    training = training.replace(**{k: v for k, v in overrides.items() if v is not None})
    if args.no_xla:
        training = training.replace(jit_compile=False)
    if training.batch_size > len(data.x_train):
        raise ValueError(
            f"--batch-size {training.batch_size} is larger than the "
            f"{len(data.x_train)} training examples of {data.name}"
        )
    validation = int(args.validation) if args.validation >= 1 else args.validation
    return RunConfig(
        dataset=args.dataset,
        data_dir=args.data_dir,
        model=model,
        training=training,
        validation=validation,
        monitor_every=args.monitor_every,
        eval_every=args.eval_every,
        eval_iw_samples=args.eval_iw_samples,
        final_iw_samples=args.final_iw_samples,
        unit_kl_examples=args.unit_kl_examples,
        dequantize=not args.no_dequantize,
    )


def default_out(args) -> str:
    layers = len(args.latent_dims) if args.latent_dims else args.layers or 5
    name = args.dataset.replace(":", "-").replace("/", "_")
    return f"runs/{name}-{args.model}-{layers}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.dataset is None and not (args.out and (args.resume or args.finetune)):
        parser.error("--dataset is required (except with --resume or --finetune and --out)")
    out = RunDir(args.out or default_out(args))
    if args.finetune:
        base = out
        out = RunDir(base.path / "finetune")
        if not out.exists():
            base_config = base.read_config()
            out.write_config(
                dataclasses.replace(
                    base_config,
                    training=finetune_config(
                        base_config.training, 2000 if args.epochs is None else args.epochs
                    ),
                    init_from=str(base.path.resolve()),
                )
            )
        train_run(out)
        return 0
    if args.resume:
        if not out.exists():
            raise FileNotFoundError(f"nothing to resume: {out.config_path} does not exist")
        train_run(out)
        return 0
    if out.exists():
        raise FileExistsError(
            f"{out.path} already holds a run; continue it with --resume, or choose another --out"
        )
    data = load_dataset(args.dataset, args.data_dir)
    config = run_config(args, data)
    out.write_config(config)
    print(f"run directory: {out.path}  (continue an interrupted run with --resume)")
    train_run(out, data=data)
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
