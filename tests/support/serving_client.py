"""Runs TF Serving REST predict bodies through SavedModels in this (fresh) process.

    python tests/support/serving_client.py REQUESTS_JSON RESPONSES_JSON [--session]

Imports no project code: the exports must stand alone. An export is loaded with
`tf.saved_model.load` (TF2 functions), or with --session as TF Serving loads it: the
MetaGraphDef tagged "serve" into a TF1 Session (`tf.compat.v1.saved_model.loader.load`),
each signature run by feeding and fetching the tensor names of its SignatureDef.

REQUESTS_JSON is a list of {"name", "export_dir", "body"}, each body as for POST
/v1/models/NAME:predict in the columnar format ({"signature_name", "inputs"}); input
values are converted to the signature's dtypes as the server does. A body may also carry
"dtypes" ({input: dtype}), which REST cannot express, to send another dtype (TF2 loading
only: a Session converts what it is fed to the input's dtype). RESPONSES_JSON gets {name:
response} shaped like the server's, {"outputs": ...} (unnamed when there is one output)
or {"error": message}, "signatures": {export_dir: {signature: {"inputs": {name: dtype},
"outputs": [names]}}}, and "max_rss_mib": {name: the process's peak resident memory after
that request} (requests run in their order).
"""

import json
import resource
import sys

import numpy as np
import tensorflow as tf


class Functions:
    """An export loaded with tf.saved_model.load: its signatures as TF2 functions."""

    def __init__(self, path: str):
        self.loaded = tf.saved_model.load(path)

    def describe(self) -> dict:
        """{signature: {"inputs": {name: dtype}, "outputs": [names]}}."""
        return {
            name: {
                "inputs": {k: s.dtype.name for k, s in fn.structured_input_signature[1].items()},
                "outputs": sorted(fn.structured_outputs),
            }
            for name, fn in self.loaded.signatures.items()
        }

    def run(self, signature: str, inputs: dict, dtypes: dict) -> dict:
        fn = self.loaded.signatures[signature]
        specs = fn.structured_input_signature[1]
        values = {k: tf.constant(v, dtype=dtypes.get(k, specs[k].dtype)) for k, v in inputs.items()}
        return {k: v.numpy() for k, v in fn(**values).items()}


class Session:
    """An export loaded as TF Serving loads it: the "serve" MetaGraphDef in a TF1 Session."""

    def __init__(self, path: str):
        self.session = tf.compat.v1.Session(graph=tf.Graph())
        with self.session.graph.as_default():
            meta_graph = tf.compat.v1.saved_model.loader.load(self.session, ["serve"], path)
        self.signatures = meta_graph.signature_def

    def describe(self) -> dict:
        """As `Functions.describe`; the SavedModel's init op is not a signature to call."""
        return {
            name: {
                "inputs": {k: tf.as_dtype(t.dtype).name for k, t in s.inputs.items()},
                "outputs": sorted(s.outputs),
            }
            for name, s in self.signatures.items()
            if name != "__saved_model_init_op"
        }

    def run(self, signature: str, inputs: dict, dtypes: dict) -> dict:
        """Session.run fed and fetched by the SignatureDef's tensor names."""
        definition = self.signatures[signature]
        if set(inputs) != set(definition.inputs):
            raise ValueError(
                f"inputs {sorted(inputs)}, the signature has {sorted(definition.inputs)}"
            )
        feed = {
            definition.inputs[k].name: np.asarray(
                v, tf.as_dtype(definition.inputs[k].dtype).as_numpy_dtype
            )
            for k, v in inputs.items()
        }
        fetches = {k: t.name for k, t in definition.outputs.items()}
        return self.session.run(fetches, feed)


def predict(model, body: dict) -> dict:
    """The server's response to a columnar predict body."""
    try:
        outputs = model.run(
            body.get("signature_name", "serving_default"), body["inputs"], body.get("dtypes", {})
        )
    except (tf.errors.OpError, TypeError, ValueError) as error:
        return {"error": getattr(error, "message", str(error))}
    outputs = {k: np.asarray(v).tolist() for k, v in outputs.items()}
    return {"outputs": next(iter(outputs.values())) if len(outputs) == 1 else outputs}


def main(requests_path: str, responses_path: str, *mode: str) -> None:
    loader = Session if mode == ("--session",) else Functions
    with open(requests_path) as f:
        requests = json.load(f)
    paths = dict.fromkeys(r["export_dir"] for r in requests)
    loaded = {path: loader(path) for path in paths}
    responses, peaks = {}, {}
    for r in requests:
        responses[r["name"]] = predict(loaded[r["export_dir"]], r["body"])
        peaks[r["name"]] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    responses["signatures"] = {path: model.describe() for path, model in loaded.items()}
    responses["max_rss_mib"] = peaks
    with open(responses_path, "w") as f:
        json.dump(responses, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
