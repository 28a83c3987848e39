"""python -m export.keras_model: a run's trained model, small enough to share or commit.

    python -m export.keras_model --run RUN_DIR --out FOLDER

writes FOLDER/model.keras, the run's final model (batch-norm statistics recomputed) with
its weights and config but without the optimizer's state, and FOLDER/config.json, the
run's. FOLDER is then a run directory for training.evaluate, training.plots and
export.saved_model, and `keras.saving.load_model("FOLDER/model.keras")` loads the model.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from tf_lvae.cli import ArgumentParser, add_run, add_verbose, begin, run_command
from tf_lvae.runs.run_dir import RunDir, check_writable, write_atomic


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="python -m export.keras_model",
        description="Write a run's final model without the optimizer's state, with its "
        "config.json, into FOLDER.",
    )
    add_run(parser)
    parser.add_argument("--out", required=True, help="FOLDER (made if missing)")
    add_verbose(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run, out = RunDir(args.run), RunDir(check_writable(Path(args.out), "folder", "--out"))
    if not run.model_path.is_file():
        raise FileNotFoundError(
            f"{run.model_path} does not exist: the run has not finished (continue it with "
            f"python -m training.fit --resume --out {args.run})"
        )
    if out.model_path.exists():
        raise FileExistsError(f"{out.model_path} already exists; choose another --out")
    begin(f"writing {run.model_path} without the optimizer to {out.model_path}", args.verbose)
    import keras  # TensorFlow starts here

    from tf_lvae.runs.checkpoints import run_model_file  # registers HierarchicalVAE too

    run_model_file(run, "final")  # refuses a damaged model.keras, or another run's
    model = keras.saving.load_model(run.model_path, compile=False)
    out.path.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run.config_path, out.config_path)
    write_atomic(out.model_path, model.save)
    size = out.model_path.stat().st_size / 2**20
    print(f"wrote {out.model_path} ({size:.1f} MiB) and {out.config_path}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, sys.argv[1:]))
