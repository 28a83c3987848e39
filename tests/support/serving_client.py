"""Runs TF Serving REST predict bodies through SavedModels in this (fresh) process.

    python tests/support/serving_client.py REQUESTS_JSON RESPONSES_JSON

Imports no project code: the exports must stand alone. REQUESTS_JSON is a list of
{"name", "export_dir", "body"}, each body as for POST /v1/models/NAME:predict in the
columnar format ({"signature_name", "inputs"}); input values are converted to the
signature's dtypes as the server does. A body may also carry "dtypes" ({input: dtype}),
which REST cannot express, to send another dtype. RESPONSES_JSON gets {name: response}
shaped like the server's, {"outputs": ...} (unnamed when there is one output) or
{"error": message}, "signatures": {export_dir: {signature: {"inputs": {name: dtype},
"outputs": [names]}}}, and "max_rss_mib", the process's peak resident memory.
"""

import json
import resource
import sys

import tensorflow as tf


def describe(loaded) -> dict:
    """{signature: {"inputs": {name: dtype}, "outputs": [names]}} of a loaded SavedModel."""
    return {
        name: {
            "inputs": {k: s.dtype.name for k, s in fn.structured_input_signature[1].items()},
            "outputs": sorted(fn.structured_outputs),
        }
        for name, fn in loaded.signatures.items()
    }


def predict(loaded, body: dict) -> dict:
    """The server's response to a columnar predict body."""
    fn = loaded.signatures[body.get("signature_name", "serving_default")]
    specs = fn.structured_input_signature[1]
    dtypes = body.get("dtypes", {})
    try:
        inputs = {
            k: tf.constant(v, dtype=dtypes.get(k, specs[k].dtype))
            for k, v in body["inputs"].items()
        }
        outputs = {k: v.numpy().tolist() for k, v in fn(**inputs).items()}
    except (tf.errors.OpError, TypeError, ValueError) as error:
        return {"error": getattr(error, "message", str(error))}
    return {"outputs": next(iter(outputs.values())) if len(outputs) == 1 else outputs}


def main(requests_path: str, responses_path: str) -> None:
    with open(requests_path) as f:
        requests = json.load(f)
    paths = dict.fromkeys(r["export_dir"] for r in requests)
    loaded = {path: tf.saved_model.load(path) for path in paths}
    responses = {r["name"]: predict(loaded[r["export_dir"]], r["body"]) for r in requests}
    responses["signatures"] = {path: describe(model) for path, model in loaded.items()}
    responses["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(responses_path, "w") as f:
        json.dump(responses, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
