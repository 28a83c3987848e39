"""The SavedModel export: every check of an export runs in a fresh process that loads it
with tf.saved_model.load, or as TF Serving does (a TF1 Session), and imports no project
code (tests/support/serving_client.py)."""

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from export.saved_model import main
from tf_lvae import HierarchicalVAE, ModelConfig, TrainingConfig
from tf_lvae.cli import run_command
from tf_lvae.run_config import RunConfig
from tf_lvae.runs.checkpoints import save_checkpoint
from tf_lvae.runs.run_dir import RunDir

REPO = Path(__file__).resolve().parents[1]
CLIENT = Path(__file__).parent / "support" / "serving_client.py"
DOCS = REPO / "docs" / "serving.md"
CONFIG = ModelConfig(input_shape=(6, 6), latent_dims=(5, 4, 3), hidden_dims=(16, 12, 8))
# MNIST-sized images for the docs' requests and the memory test: the 784 logits per sample
# are what would take the memory, unchunked; narrow layers keep its export quick
MNIST_CONFIG = ModelConfig(input_shape=(28, 28), latent_dims=(4, 3, 2), hidden_dims=(16, 12, 8))
CONV_CONFIG = ModelConfig(
    input_shape=(6, 6),
    architecture="conv",
    latent_dims=(3, 2),
    hidden_dims=(8, 8),
    strides=(2, 2),
    residual_blocks=1,
)
NUM_SAMPLES, CHUNK_SIZE, SCORE_SEED = 40, 16, 3  # the tiny export's score settings
SIGNATURES = {
    "encode",
    "reconstruct",
    "sample",
    "sample_default",
    "score",
    "score_default",
    "serving_default",
}


def images(n: int, seed: int, shape=(6, 6)) -> np.ndarray:
    return (np.random.default_rng(seed).uniform(size=(n, *shape)) < 0.3).astype("float32")


X = images(5, 7)
X16 = images(16, 8)
SAMPLE = {"num_samples": 3, "seed": [1, 2], "from_layer": 2, "temperature": 0.8}
REQUESTS = {
    "encode": ("encode", {"x": X}),
    "reconstruct": ("reconstruct", {"x": X}),
    "score": ("score", {"x": X, "num_samples": 30}),
    "score_default": ("score_default", {"x": X}),
    "serving_default": ("serving_default", {"x": X}),
    **{f"score_k{k}": ("score", {"x": X16, "num_samples": k}) for k in (1, 20, 200)},
    "sample": ("sample", SAMPLE),
    "sample_again": ("sample", SAMPLE),
    "sample_other_seed": ("sample", {**SAMPLE, "seed": [1, 3]}),
    "sample_default": ("sample_default", {"num_samples": 3, "seed": [4, 5]}),
    "bad_shape": ("encode", {"x": images(2, 0, (5, 5))}),
    "bad_rank": ("score", {"x": images(2, 0, (36,)), "num_samples": 2}),
    "bad_range": ("reconstruct", {"x": 2 * X}),
    "bad_num_samples": ("score", {"x": X, "num_samples": 0}),
    "bad_layer": ("sample", {**SAMPLE, "from_layer": 4}),
    "bad_seed": ("sample_default", {"num_samples": 3, "seed": [1, 2, 3]}),
    "bad_temperature": ("sample", {**SAMPLE, "temperature": -1.0}),
    "infinite_temperature": ("sample", {**SAMPLE, "temperature": float("inf")}),
    "absurd_temperature": ("sample", {**SAMPLE, "temperature": 1e30}),
    "too_many_samples": ("sample_default", {"num_samples": 10**6, "seed": [1, 2]}),
    "too_large_k": ("score", {"x": X, "num_samples": 10**8}),
    "too_much_score_work": ("score", {"x": X16, "num_samples": 400_000}),
    "too_large_batch": ("encode", {"x": np.zeros((10_001, 6, 6), "float32")}),
}
X_SHAPE = "x must be float32 of shape [batch <= 10000, 6, 6] in [0, 1]"
TEMPERATURE = "temperature must be float32 scalar in [0, 10]; got]"
ERRORS = {
    "bad_shape": f"{X_SHAPE}; got shape] [2 5 5]",
    "bad_rank": f"{X_SHAPE}; got shape] [2 36]",
    "bad_range": f"{X_SHAPE}; got values from] [0] [to]",
    "bad_num_samples": "num_samples must be int32 scalar in [1, 5e+06]; got] [0]",
    "bad_layer": "from_layer must be int32 scalar in [1, 3]; got] [4]",
    "bad_seed": "seed must be int32 of shape [2]; got shape] [3]",
    "bad_temperature": f"{TEMPERATURE} [-1]",
    "infinite_temperature": f"{TEMPERATURE} [inf]",
    "absurd_temperature": f"{TEMPERATURE} [1e+30]",
    "too_many_samples": "num_samples must be int32 scalar in [1, 10000]; got] [1000000]",
    "too_large_k": "num_samples must be int32 scalar in [1, 5e+06]; got] [100000000]",
    "too_much_score_work": "x examples x num_samples must be at most 5000000 "
    "(max_score_samples of the export); got] [6400000]",
    "too_large_batch": f"{X_SHAPE}; got shape] [10001 6 6]",
    "bad_dtype": "expected to be a float tensor but is a double tensor",
}


def body(signature: str, inputs: dict) -> dict:
    inputs = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in inputs.items()}
    return {"signature_name": signature, "inputs": inputs}


def docs_bodies() -> list[dict]:
    """The request bodies of the curl commands in docs/serving.md, $DIGIT expanded."""
    text = DOCS.read_text()
    digit = re.search(r"^DIGIT='([^']*)'", text, re.M).group(1)
    text = text.replace("'\"$DIGIT\"'", digit)
    return [json.loads(b) for b in re.findall(r"-d '([^']*)'", text)]


def make_run(path: Path, model: HierarchicalVAE, finished: bool = True) -> RunDir:
    run = RunDir(path)
    config = RunConfig("mnist", None, model.model_config, TrainingConfig())
    run.write_config(config)
    if finished:
        model.save(run.model_path)
    else:
        save_checkpoint(model, run, 1)
    return run


def export(run: Path, base: Path, *options: str) -> int:
    return run_command(main, ["--run", str(run), "--out", str(base), *options])


def run_client(requests: list[dict], folder: Path, *mode: str) -> dict:
    """The responses of a fresh serving_client.py process to the requests (mode
    "--session": the export loaded into a TF1 Session, as TF Serving does)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "requests.json").write_text(json.dumps(requests))
    command = [sys.executable, str(CLIENT), *(str(folder / n) for n in ("requests.json", "out"))]
    command += mode
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads((folder / "out").read_text())


def assert_same_outputs(got, expected, rtol=1e-5):
    if isinstance(expected, dict):
        assert set(got) == set(expected)
        for key in expected:
            np.testing.assert_allclose(got[key], expected[key], rtol=rtol, atol=1e-5)
    else:
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-5)


def trained(config: ModelConfig) -> HierarchicalVAE:
    """A small LVAE trained for 2 epochs: batch-norm statistics moved from their start."""
    keras.utils.set_random_seed(0)
    model = HierarchicalVAE(config, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    model.fit(images(256, 1), batch_size=32, epochs=2, verbose=0)
    return model


@pytest.fixture(scope="module")
def model() -> HierarchicalVAE:
    return trained(CONFIG)


@pytest.fixture(scope="module")
def conv_model() -> HierarchicalVAE:
    return trained(CONV_CONFIG)


@pytest.fixture(scope="module")
def exports(tmp_path_factory, model, conv_model) -> dict[str, Path]:
    """Exports by the CLI: the tiny model (finished run), a tiny convolutional model, the
    tiny model from a checkpoint of an unfinished run (version 3, limits of 5 examples and
    5 samples), then, into the same folder without --version, an untrained MNIST-sized
    model (for the docs' requests): it becomes version 4."""
    tmp = tmp_path_factory.mktemp("export")
    settings = ["--num-samples", str(NUM_SAMPLES), "--chunk-size", str(CHUNK_SIZE)]
    settings += ["--score-seed", str(SCORE_SEED)]
    assert export(make_run(tmp / "run", model).path, tmp / "tiny", *settings) == 0
    assert export(make_run(tmp / "conv", conv_model).path, tmp / "conv", *settings) == 0
    unfinished = make_run(tmp / "unfinished", model, finished=False)
    limits = ["--max-batch", "5", "--max-samples", "5"]
    assert export(unfinished.path, tmp / "versions", "--version", "3", *limits) == 0
    mnist = HierarchicalVAE(MNIST_CONFIG, seed=0)
    assert export(make_run(tmp / "mnist", mnist).path, tmp / "versions") == 0
    return {
        "tiny": tmp / "tiny" / "1",
        "unfinished": tmp / "versions" / "3",
        "conv": tmp / "conv" / "1",
        "mnist": tmp / "versions" / "4",
    }


def request(name: str, export_dir: Path, body: dict) -> dict:
    return {"name": name, "export_dir": str(export_dir), "body": body}


def tiny_requests(exports) -> list[dict]:
    """REQUESTS, and one with x in float64, to the tiny export."""
    bad_dtype = {**body("encode", {"x": X}), "dtypes": {"x": "float64"}}
    return [
        *(request(name, exports["tiny"], body(*r)) for name, r in REQUESTS.items()),
        request("bad_dtype", exports["tiny"], bad_dtype),
    ]


@pytest.fixture(scope="module")
def responses(exports, tmp_path_factory) -> dict:
    """Responses of one fresh process to every request of these tests."""
    return run_client(
        [
            *tiny_requests(exports),
            request("unfinished", exports["unfinished"], body("encode", {"x": X})),
            *(request(f"conv_{name}", exports["conv"], body(*REQUESTS[name])) for name in CONV),
            *(request(f"docs_{i}", exports["mnist"], b) for i, b in enumerate(docs_bodies())),
        ],
        tmp_path_factory.mktemp("client"),
    )


def test_signatures_inputs_and_output_keys(responses, exports):
    found = responses["signatures"][str(exports["tiny"])]
    assert set(found) == SIGNATURES
    x, n, seed = {"x": "float32"}, {"num_samples": "int32"}, {"seed": "int32"}
    assert found["encode"] == {
        "inputs": x,
        "outputs": sorted(f"z{i}_{s}" for i in (1, 2, 3) for s in ("mean", "variance")),
    }
    assert found["reconstruct"] == {"inputs": x, "outputs": ["reconstruction"]}
    scores = ["elbo", "log_likelihood"]
    for name in ("score_default", "serving_default"):
        assert found[name] == {"inputs": x, "outputs": scores}
    assert found["score"] == {"inputs": {**x, **n}, "outputs": scores}
    assert found["sample_default"] == {"inputs": {**n, **seed}, "outputs": ["images"]}
    assert found["sample"] == {
        "inputs": {**n, **seed, "from_layer": "int32", "temperature": "float32"},
        "outputs": ["images"],
    }


def test_outputs_equal_the_in_memory_model(responses, model):
    def scores(x, k):
        return {key: v.numpy() for key, v in model.score(x, k, CHUNK_SIZE, SCORE_SEED).items()}

    expected = {
        "encode": {key: v.numpy() for key, v in model.encode(X).items()},
        "unfinished": {key: v.numpy() for key, v in model.encode(X).items()},
        "reconstruct": model.reconstruct(X).numpy(),
        "score": scores(X, 30),
        "score_default": scores(X, NUM_SAMPLES),
        "serving_default": scores(X, NUM_SAMPLES),
        "sample": model.sample(3, 2, 0.8, tf.constant([1, 2])).numpy(),
        "sample_default": model.sample(3, seed=tf.constant([4, 5])).numpy(),
    }
    for name, value in expected.items():
        assert_same_outputs(responses[name]["outputs"], value)


CONV = ("encode", "reconstruct", "score", "sample", "bad_shape")


def test_a_convolutional_model_serves_spatial_latents_and_the_same_signatures(
    responses, conv_model, exports
):
    assert set(responses["signatures"][str(exports["conv"])]) == SIGNATURES
    encoded = responses["conv_encode"]["outputs"]
    assert np.shape(encoded["z1_mean"]) == (5, 3, 3, 3)
    assert np.shape(encoded["z2_variance"]) == (5, 2, 2, 2)
    expected = {
        "encode": {key: v.numpy() for key, v in conv_model.encode(X).items()},
        "reconstruct": conv_model.reconstruct(X).numpy(),
        "score": {k: v.numpy() for k, v in conv_model.score(X, 30, CHUNK_SIZE, SCORE_SEED).items()},
        "sample": conv_model.sample(3, 2, 0.8, tf.constant([1, 2])).numpy(),
    }
    for name, value in expected.items():
        assert_same_outputs(responses[f"conv_{name}"]["outputs"], value)
    assert ERRORS["bad_shape"] in responses["conv_bad_shape"]["error"]


def test_score_is_finite_above_the_elbo_and_grows_with_the_number_of_samples(responses):
    means = []
    for k in (1, 20, 200):
        out = {key: np.array(v) for key, v in responses[f"score_k{k}"]["outputs"].items()}
        assert np.all(np.isfinite(out["log_likelihood"])) and np.all(np.isfinite(out["elbo"]))
        assert out["log_likelihood"].mean() >= out["elbo"].mean()
        means.append(out["log_likelihood"].mean())
    np.testing.assert_allclose(*responses["score_k1"]["outputs"].values(), rtol=1e-6)
    assert means[0] < means[1] < means[2]


def test_an_empty_batch_is_scored_with_one_sample_whatever_its_k(exports):
    """5,000,000 samples of no example would pass the limits (0 x K) and draw K samples of
    nothing for a minute; the export answers with one."""
    score = tf.saved_model.load(str(exports["tiny"])).signatures["score"]
    empty = tf.zeros((0, 6, 6))
    out = score(x=empty, num_samples=tf.constant(5_000_000))
    assert {k: v.shape for k, v in out.items()} == {"log_likelihood": (0,), "elbo": (0,)}


def test_sample_is_reproducible_across_processes_and_differs_between_seeds(
    responses, exports, tmp_path
):
    drawn = np.array(responses["sample"]["outputs"])
    assert drawn.shape == (3, 6, 6) and np.all((drawn >= 0) & (drawn <= 1))
    np.testing.assert_array_equal(responses["sample_again"]["outputs"], drawn)
    assert not np.allclose(responses["sample_other_seed"]["outputs"], drawn)
    assert not np.allclose(drawn[0], drawn[1])
    again = run_client([r for r in tiny_requests(exports) if r["name"] == "sample"], tmp_path)
    np.testing.assert_array_equal(again["sample"]["outputs"], drawn)


def test_bad_inputs_fail_with_a_message_naming_what_is_expected(responses):
    for name, message in ERRORS.items():
        assert message in responses[name].get("error", ""), (name, responses[name])


def test_tf_servings_loading_path_answers_every_signature_as_the_loaded_model(
    exports, responses, tmp_path
):
    """TF Serving loads an export as a TF1 bundle, the MetaGraphDef tagged "serve" in a
    Session, and runs a signature by feeding and fetching the tensor names of its
    SignatureDef: every request gets what tf.saved_model.load gives, refusals included."""
    requests = [r for r in tiny_requests(exports) if "dtypes" not in r["body"]]
    session = run_client(requests, tmp_path, "--session")
    tiny = str(exports["tiny"])
    assert session["signatures"][tiny] == responses["signatures"][tiny]
    for r in requests:
        got, expected = session[r["name"]], responses[r["name"]]
        if "error" in expected:
            assert ERRORS[r["name"]] in got.get("error", ""), (r["name"], got)
        else:
            assert "outputs" in got, (r["name"], got)
            assert_same_outputs(got["outputs"], expected["outputs"])


def test_the_request_bodies_of_the_docs_are_accepted(responses):
    bodies = docs_bodies()
    assert {b.get("signature_name", "serving_default") for b in bodies} == SIGNATURES
    for i in range(len(bodies)):
        assert "outputs" in responses[f"docs_{i}"], responses[f"docs_{i}"]


def test_the_export_holds_only_the_inference_weights(exports, model):
    saved = tf.train.list_variables(str(exports["tiny"] / "variables" / "variables"))
    saved = [tuple(shape) for name, shape in saved if name != "_CHECKPOINTABLE_OBJECT_GRAPH"]
    used = [tuple(v.shape) for v in model.weights if v.trainable or "moving" in v.path]
    assert sorted(saved) == sorted(used)


def test_saved_model_cli_lists_every_signature(exports):
    cli = Path(sys.executable).with_name("saved_model_cli")
    command = [str(cli), "show", "--dir", str(exports["tiny"]), "--all"]
    shown = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    assert set(re.findall(r"signature_def\['(\w+)'\]", shown.stdout)) >= SIGNATURES
    # every input's shape is declared
    assert not re.search(
        r"inputs\['\w+'\] tensor_info:\s+dtype: \w+\s+shape: unknown", shown.stdout
    )
    assert re.search(r"inputs\['x'\] tensor_info:\s+dtype: DT_FLOAT\s+shape: \(-1, 6, 6\)",
                     shown.stdout)  # fmt: skip
    assert re.search(r"inputs\['seed'\] tensor_info:\s+dtype: DT_INT32\s+shape: \(2\)",
                     shown.stdout)  # fmt: skip


def test_the_export_records_its_settings_and_limits(exports):
    record = json.loads((exports["tiny"] / "assets.extra" / "tf_lvae.json").read_text())
    assert record["score_default_num_samples"] == NUM_SAMPLES
    assert record["limits"] == {
        "max_batch": 10_000,
        "max_samples": 10_000,
        "max_score_samples": 5_000_000,
        "max_temperature": 10.0,
    }
    assert record["source"].endswith("run") and record["model"]["latent_dims"] == [5, 4, 3]


def test_a_k_above_the_limits_is_refused_and_chosen_limits_are_recorded(exports, tmp_path, capsys):
    run = exports["unfinished"].parents[1] / "unfinished"
    assert export(run, tmp_path / "x", "--num-samples", "1000000000") == 2
    err = capsys.readouterr().err
    assert "(1,000,000,000, --num-samples) must be in 1..5,000,000, the export's" in err
    assert not (tmp_path / "x" / "1").exists()
    overflowing = [
        (["--num-samples", "3000000000", "--max-score-samples", "4000000000"], "max_score"),
        (["--max-batch", "1000000000000"], "max_batch (--max-batch) must be an integer in"),
    ]
    for options, message in overflowing:  # past int32: refused before anything is written
        assert export(run, tmp_path / "y", *options) == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "y").exists()
    record = json.loads((exports["unfinished"] / "assets.extra" / "tf_lvae.json").read_text())
    assert (record["limits"]["max_batch"], record["limits"]["max_samples"]) == (5, 5)


def test_memory_stays_flat_for_a_large_batch_at_the_limit(exports, tmp_path):
    """10,000 MNIST-sized images at K = 100 (1,000,000 samples): the chunks hold at most
    10,000 rows (the batch), so K = 100 needs no more memory than K = 1 on the same images.
    Unchunked, the logits alone would take 1,000,000 x 784 x 4 B = 3 GB. The increase is
    measured in one process (its peak after K = 1, then after K = 100), not the absolute
    peak, which depends on the machine's allocator and TensorFlow's threads."""
    x = images(10_000, 1, (28, 28))
    responses = run_client(
        [
            request(name, exports["mnist"], body("score", {"x": x, "num_samples": k}))
            for name, k in (("one", 1), ("large", 100))
        ],
        tmp_path,
    )
    assert len(responses["large"]["outputs"]["log_likelihood"]) == 10_000
    peaks = responses["max_rss_mib"]
    assert peaks["large"] - peaks["one"] < 512


def test_versions_are_numbered_and_never_overwritten(exports, capsys):
    base = exports["unfinished"].parent
    run = exports["unfinished"].parents[1] / "unfinished"
    assert sorted(p.name for p in base.iterdir()) == ["3", "4"]
    assert export(run, base, "--version", "3") == 2
    expected = f"error: {base / '3'} already exists; choose another --version\n"
    assert capsys.readouterr().err == expected


def test_a_run_without_a_trained_model_exits_2_with_one_line(tmp_path, model, capsys):
    run = RunDir(tmp_path / "run")
    run.write_config(RunConfig("mnist", None, model.model_config, TrainingConfig()))
    assert export(run.path, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no trained model" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_missing_run_dir_exits_2_with_one_line_and_no_traceback(tmp_path):
    command = [sys.executable, "-m", "export.saved_model", "--run", str(tmp_path / "nope")]
    command += ["--out", str(tmp_path / "out")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"argument --run: {tmp_path / 'nope'} does not exist" in done.stderr.splitlines()[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def post(url: str, payload: dict) -> dict:
    http_request = urllib.request.Request(url, json.dumps(payload).encode(), method="POST")
    try:
        with urllib.request.urlopen(http_request, timeout=60) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as error:
        return json.load(error)


def model_status(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return json.load(answer)
    except (urllib.error.URLError, ConnectionError):
        return {}


@pytest.mark.skipif(
    shutil.which("tensorflow_model_server") is None, reason="tensorflow_model_server not on PATH"
)
def test_a_real_server_answers_every_signature_as_the_loaded_model(exports, responses):
    port = free_port()
    server = subprocess.Popen(
        [
            "tensorflow_model_server",
            f"--port={free_port()}",
            f"--rest_api_port={port}",
            "--model_name=lvae",
            f"--model_base_path={exports['tiny'].parent}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://localhost:{port}/v1/models/lvae"
    try:
        deadline = time.monotonic() + 60
        while "AVAILABLE" not in json.dumps(model_status(url)):
            assert time.monotonic() < deadline, "the server did not load the export in 60 s"
            time.sleep(0.5)
        for r in tiny_requests(exports):
            if "dtypes" in r["body"]:
                continue
            got, expected = post(url + ":predict", r["body"]), responses[r["name"]]
            if "error" in expected:
                assert ERRORS[r["name"]] in got.get("error", ""), got
            else:
                assert_same_outputs(got["outputs"], expected["outputs"])
    finally:
        server.terminate()
        server.wait(timeout=30)
