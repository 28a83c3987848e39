"""Writing a model's SavedModel: its signatures (`export.signatures`), the shapes its
metadata declares, and the record of its settings."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import keras
from tensorflow.core.protobuf import saved_model_pb2

from export.limits import ServingLimits
from export.signatures import Input, checked, signatures
from tf_lvae.bounds import DEFAULT_IW_CHUNK_SIZE
from tf_lvae.constants import PAPER_TEST_IW_SAMPLES
from tf_lvae.model import HierarchicalVAE
from tf_lvae.runs.run_dir import write_atomic_dir, write_json


def export_model(
    model: HierarchicalVAE,
    export_dir: str | os.PathLike,
    num_samples: int = PAPER_TEST_IW_SAMPLES,
    chunk_size: int = DEFAULT_IW_CHUNK_SIZE,
    score_seed: int = 0,
    limits: ServingLimits | None = None,
    source: str | None = None,
) -> Path:
    """Writes the SavedModel of `signatures` to export_dir (which must not exist) and
    returns its path. Its signature metadata declares every input's shape, and
    assets.extra/tf_lvae.json records the export's settings and limits (and `source`, the
    run it came from). It is written beside it and renamed into place, so a server
    watching the parent folder never loads a partial export."""
    export_dir = Path(export_dir)
    limits = limits or ServingLimits()
    if export_dir.exists():
        raise FileExistsError(f"{export_dir} already exists; export to another version")
    limits.check_score_default(num_samples)
    # keras' ExportArchive saves only the variables the endpoints use (no optimizer state)
    # and serves its first endpoint, score_default, as "serving_default" too.
    archive = keras.export.ExportArchive()
    exported = signatures(model, num_samples, chunk_size, score_seed, limits)
    for name, (inputs, fn) in exported.items():
        archive.add_endpoint(name, checked(inputs, fn), [i.spec() for i in inputs])
    record = {
        "source": source,
        "model": model.model_config.to_dict(),
        "batch_norm_statistics": model.batch_norm_statistics,
        "score_default_num_samples": num_samples,
        "chunk_size": chunk_size,
        "score_seed": score_seed,
        "limits": dataclasses.asdict(limits),
    }

    def write(folder: Path) -> None:
        archive.write_out(str(folder), verbose=False)
        declare_shapes(folder, {name: inputs for name, (inputs, _) in exported.items()})
        write_json(folder / "assets.extra" / "tf_lvae.json", record)

    write_atomic_dir(export_dir, write)
    return export_dir


def declare_shapes(export_dir: Path, inputs: dict[str, tuple[Input, ...]]) -> None:
    """Writes every signature input's shape into the SavedModel's signature metadata (what
    TF Serving's metadata API and saved_model_cli show); "serving_default" is the first
    signature's. The graph itself keeps inputs of any shape and checks them (Input.spec)."""
    path = export_dir / "saved_model.pb"
    saved = saved_model_pb2.SavedModel.FromString(path.read_bytes())
    shapes = {**inputs, "serving_default": next(iter(inputs.values()))}
    for meta_graph in saved.meta_graphs:
        for name, signature in meta_graph.signature_def.items():
            for spec in shapes.get(name, ()):
                shape = signature.inputs[spec.name].tensor_shape
                shape.Clear()
                for size in spec.declared_shape:
                    shape.dim.add(size=size)
    path.write_bytes(saved.SerializeToString())
