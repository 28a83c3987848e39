"""python -m training.fit: train a Ladder VAE or deep VAE with the paper's settings.

Defaults are the paper's settings for the dataset (docs/method.md §6): `--dataset mnist`
alone trains the 5-layer LVAE+BN+WU. Everything the run writes goes to --out (see
tf_lvae/runs/run_dir.py); `--resume` continues it after any interruption and
`--finetune` continues a finished run with the paper's fine-tuning.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from tf_lvae.cli import (
    ArgumentParser,
    add_field_options,
    add_no_xla,
    add_verbose,
    begin,
    default_of,
    given_fields,
    image_size,
    int_list,
    interruption_note,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    run_command,
)
from tf_lvae.config import (
    ARCHITECTURES,
    AUTHORS_PIXEL_SCALE,
    CLUSTER_TIMEOUT,
    FREE_BITS_GROUPS,
    LIKELIHOODS,
    PIXEL_SCALES,
    STRATEGIES,
    ModelConfig,
    TrainingConfig,
)
from tf_lvae.constants import FINETUNE_EPOCHS, PAPER_NUM_LAYERS
from tf_lvae.data.datasets import DATASET_NAMES, FOLDER_PREFIX, NPZ_PREFIX, dataset_slug
from tf_lvae.presets import CONV_RESIDUAL_BLOCKS
from tf_lvae.run_config import RunConfig
from tf_lvae.runs.run_dir import RunDir

GIVEN = argparse.SUPPRESS  # the default of options that leave the config's default


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python -m training.fit", description=__doc__.split("\n")[0])
    p.add_argument(
        "--dataset",
        help=f"one of {', '.join(DATASET_NAMES)} (npz: x_train, x_test arrays; folder: PNG "
        "or JPEG images, in train/ and test/ or split 9:1); required for a new run",
    )
    p.add_argument(
        "--image-size",
        type=image_size,
        default=GIVEN,
        metavar="H,W",
        help="folder: datasets: resize every image to H x W (N: N x N)",
    )
    p.add_argument("--data-dir", help="folder with the original files or a tfds data_dir")
    p.add_argument(
        "--pixel-scale",
        type=int,
        choices=PIXEL_SCALES,
        default=GIVEN,
        help="binarized 8-bit images (mnist): draw each pixel from byte/255 (default; the "
        f"tfds and torchvision convention) or byte/{AUTHORS_PIXEL_SCALE} (the authors' MNIST, "
        "as training.reproduce)",
    )
    p.add_argument(
        "--download",
        action="store_true",
        help="a new run: let tensorflow-datasets download and prepare the dataset in "
        "--data-dir (without --data-dir it does, in its own default folder)",
    )
    p.add_argument("--out", help="run directory (default: runs/DATASET-MODEL-LAYERS)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument(
        "--finetune",
        action="store_true",
        help=f"fine-tune the finished run in --out (into OUT/finetune): --epochs more epochs "
        f"(default {FINETUNE_EPOCHS}), lr x 0.75 every 200 epochs, 10 MC and 10 IW samples",
    )
    m = p.add_argument_group("model (default: the paper's for the dataset)")
    m.add_argument(
        "--model", dest="kind", choices=("lvae", "vae"), default=GIVEN, help="default: lvae"
    )
    m.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        default=GIVEN,
        help="mlp: the paper's (default); conv: residual convolutional blocks and spatial "
        "latent layers, with its own preset (docs/training.md: choosing an architecture)",
    )
    sizes = m.add_mutually_exclusive_group()
    sizes.add_argument(
        "--layers", type=positive_int, help=f"latent layers, 1..{PAPER_NUM_LAYERS} (default 5)"
    )
    sizes.add_argument("--latent-dims", type=int_list, default=GIVEN, help="e.g. 64,32,16")
    m.add_argument(
        "--hidden-dims",
        type=int_list,
        default=GIVEN,
        help="MLP widths (conv: channels), one per latent layer",
    )
    m.add_argument(
        "--strides",
        type=int_list,
        default=GIVEN,
        help="conv: each latent layer's downsampling from the one below, e.g. 2,2,2",
    )
    m.add_argument(
        "--residual-blocks",
        type=non_negative_int,
        default=GIVEN,
        help=f"conv: residual blocks per connection (preset {CONV_RESIDUAL_BLOCKS})",
    )
    m.add_argument("--no-batch-norm", dest="batch_norm", action="store_false", default=GIVEN)
    m.add_argument("--top-down", choices=("separate", "shared"), default=GIVEN)
    m.add_argument(
        "--likelihood",
        choices=LIKELIHOODS,
        default=GIVEN,
        help="default: the data's; logistic-mixture: the 256 levels of 8-bit images "
        "(docs/training.md: choosing a likelihood)",
    )
    m.add_argument(
        "--mixture-components",
        type=positive_int,
        default=GIVEN,
        help="components of --likelihood logistic-mixture (default 10)",
    )
    m.add_argument(
        "--no-dequantize",
        dest="dequantize",
        action="store_false",
        default=GIVEN,
        help="Gaussian likelihood on 8-bit images: train on the stored values instead of "
        "adding uniform dequantization noise (the default, as the authors)",
    )
    t = p.add_argument_group("training (default: the paper's for the dataset)")
    t.add_argument("--epochs", type=non_negative_int)
    t.add_argument("--warmup-epochs", type=non_negative_int, default=GIVEN)
    t.add_argument("--lr", dest="learning_rate", metavar="LR", type=positive_float, default=GIVEN)
    t.add_argument("--batch-size", type=positive_int, default=GIVEN)
    t.add_argument("--mc-samples", type=positive_int, default=GIVEN)
    t.add_argument("--iw-samples", type=positive_int, default=GIVEN)
    t.add_argument(
        "--free-bits",
        type=non_negative_float,
        default=GIVEN,
        metavar="NATS",
        help="free bits: each group's KL term is max(NATS, its batch mean) (default 0: off)",
    )
    t.add_argument(
        "--free-bits-group",
        choices=FREE_BITS_GROUPS,
        default=GIVEN,
        help="the groups of --free-bits: each latent layer (default) or each channel",
    )
    t.add_argument("--seed", type=non_negative_int, default=GIVEN)
    t.add_argument(
        "--steps-per-execution",
        type=positive_int,
        default=GIVEN,
        help=f"speed only (default: {default_of(TrainingConfig, 'steps_per_execution')})",
    )
    add_no_xla(t)
    d = p.add_argument_group("distribution (docs/distributed.md)")
    d.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default=GIVEN,
        help="default: one device; mirrored: tf.distribute.MirroredStrategy, the batch "
        "split across the local GPUs or --devices; multiworker: "
        "MultiWorkerMirroredStrategy over the cluster in TF_CONFIG (the same command on "
        "every worker)",
    )
    d.add_argument(
        "--devices",
        type=lambda text: tuple(text.split(",")),
        default=GIVEN,
        help="the mirrored strategy's devices, e.g. GPU:0,GPU:1 (CPU:0,CPU:1 splits the CPU)",
    )
    d.add_argument(
        "--cluster-timeout",
        type=positive_int,
        default=CLUSTER_TIMEOUT,
        metavar="S",
        help=f"multiworker: stop if the whole cluster has not started within S seconds "
        f"(default {CLUSTER_TIMEOUT})",
    )
    d.add_argument(
        "--sync-batch-norm",
        dest="synchronized_batch_norm",
        action="store_true",
        default=GIVEN,
        help="batch norm with the global batch's statistics on every replica",
    )
    e = p.add_argument_group("evaluation")
    e.add_argument("--validation", type=float, default=GIVEN, help="held-out count or fraction")
    add_field_options(
        e,
        RunConfig,
        [
            (
                "monitor_every",
                positive_int,
                "record the test ELBO and the per-unit KL every N epochs",
            ),
            ("eval_every", non_negative_int, "test IW bound every N epochs"),
            ("eval_iw_samples", positive_int, "K of that test IW bound"),
            ("final_iw_samples", positive_int, "K of the final test log-likelihood"),
            ("unit_kl_examples", non_negative_int, "test examples of the per-unit KL record"),
        ],
    )
    add_verbose(p)
    return p


def inapplicable(args: argparse.Namespace) -> list[str]:
    """The options given that would do nothing with the others, each said in one line (the
    rules that need the data, e.g. --no-dequantize, are `configure.configure_run`'s)."""
    given = vars(args)
    conv = given.get("architecture") == "conv"
    own_files = (args.dataset or "").startswith((NPZ_PREFIX, FOLDER_PREFIX))
    rules = [
        (args.download and (own_files or args.dataset == "mnist-sample"),
         f"--download is for datasets tensorflow-datasets prepares, not {args.dataset}"),
        ("residual_blocks" in given and not conv,
         "--residual-blocks is for --architecture conv; the MLP has none"),
        ("top_down" in given and given.get("kind") == "vae",
         "--top-down is the LVAE's inference; --model vae has none"),
        ("mixture_components" in given and given.get("likelihood") != "logistic-mixture",
         "--mixture-components is for --likelihood logistic-mixture"),
        ("free_bits_group" in given and not given.get("free_bits"),
         "--free-bits-group needs --free-bits NATS (free bits are off without it)"),
        ("synchronized_batch_norm" in given and given.get("strategy", "default") == "default",
         "--sync-batch-norm is for --strategy mirrored or multiworker (one device has one "
         "batch)"),
    ]  # fmt: skip
    return [message for applies, message in rules if applies]


def model_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The model options given, as ModelConfig changes to the dataset's preset."""
    changes = given_fields(args, ModelConfig)
    for name in ("hidden_dims", "strides"):
        if name in changes and "latent_dims" not in changes:
            option = name.replace("_", "-")
            raise ValueError(f"--{option} needs --latent-dims (one value per latent layer)")
    return changes


def run_options(args: argparse.Namespace) -> dict[str, Any]:
    """A new run's settings as `configure.configure_run` takes them: the dataset's preset,
    changed by the arguments."""
    layers = args.layers or PAPER_NUM_LAYERS
    if args.layers and not 1 <= layers <= PAPER_NUM_LAYERS:
        raise ValueError(
            f"--layers must be 1..{PAPER_NUM_LAYERS}, got {layers}; use --latent-dims for others"
        )
    run = {k: v for k, v in given_fields(args, RunConfig).items() if k != "dataset"}
    if "validation" in run and run["validation"] >= 1:
        run["validation"] = int(run["validation"])
    return {
        "kind": getattr(args, "kind", "lvae"),
        "num_layers": layers,
        "model": model_changes(args),
        "training": given_fields(args, TrainingConfig),
        **run,
    }


def default_out(args: argparse.Namespace) -> str:
    layers = len(args.latent_dims) if "latent_dims" in args else args.layers or PAPER_NUM_LAYERS
    conv = "-conv" if getattr(args, "architecture", "mlp") == "conv" else ""
    return f"runs/{dataset_slug(args.dataset)}-{getattr(args, 'kind', 'lvae')}{conv}-{layers}"


def given_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The options given, as changes to a saved run's config (see `continued_config`)."""
    model = model_changes(args)
    if args.layers:
        model["num_layers"] = args.layers
    return {
        **given_fields(args, RunConfig),
        "model": model,
        "training": given_fields(args, TrainingConfig),
    }


def interrupted_note(out: RunDir, finetune: bool) -> str:
    """What an interrupted command says: how to continue its run, or that it made none."""
    run = out.finetune if finetune else out
    if run.exists():
        option = "--finetune" if finetune else "--resume"
        return f"checkpoints are kept, continue with {option} --out {out.path}"
    cluster = " (a worker of a cluster: the chief's is kept)" if "TF_CONFIG" in os.environ else ""
    return f"no run was created in {run.path}{cluster}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.resume and args.finetune:
        parser.error("--resume and --finetune cannot be combined: --finetune alone continues an "
                     "interrupted fine-tuning")  # fmt: skip
    if args.download and (args.resume or args.finetune):
        parser.error("--download is for a new run: a saved run reads its data from its "
                     "config's data_dir, or a new --data-dir")  # fmt: skip
    if args.dataset is None and not (args.out and (args.resume or args.finetune)):
        parser.error("--dataset is required (except with --resume or --finetune and --out)")
    for problem in inapplicable(args):
        parser.error(problem)
    out = RunDir(args.out or default_out(args))
    changes = given_changes(args)
    options = None if args.resume or args.finetune else run_options(args)
    what = (
        f"fine-tuning {out.path} into {out.finetune.path}"
        if args.finetune
        else f"resuming {out.path}"
        if args.resume
        else f"training a new run of {args.dataset} in {out.path}"
    )
    begin(what, args.verbose)
    with interruption_note(lambda: interrupted_note(out, args.finetune)):
        from tf_lvae.runs import start  # TensorFlow starts here
        from tf_lvae.runs.cluster import is_chief
        from tf_lvae.runs.train import train_worker

        strategy = start.run_strategy(
            out,
            args.resume or args.finetune,
            getattr(args, "strategy", None),
            getattr(args, "devices", None),
            args.cluster_timeout,
        )
        if strategy is not None and not is_chief(strategy):
            train_worker(strategy, args.data_dir)
        elif args.finetune:
            start.fine_tuning(out, changes, args.epochs, strategy)
        elif args.resume:
            start.continue_run(out, changes, strategy)
        else:
            start.new_run(out, args.dataset, options, strategy, args.download or None)
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
