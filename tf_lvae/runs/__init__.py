"""A training run and its directory:

- `run_dir`: every record of a run directory, its path, reader and writer.
- `configure`: a new run's RunConfig, from the paper's preset for its dataset.
- `start`: a new, resumed or fine-tuned run from a command's options, on its strategy.
- `checkpoints`: the training state saved every epoch, and which file holds a run's model.
- `callbacks`: the callbacks that watch and record training (test bounds, per-unit KL,
  TensorBoard images, the epoch line, metrics.csv).
- `distribute`: the tf.distribute strategy a run trains under.
- `cluster`: what the workers of a multi-worker run share (config, state) and how they stop.
- `loop`: the training loop of a multi-worker run (Keras's fit cannot run it).
- `loopback`: a cluster of processes on this machine, for trying, testing, benchmarking.
- `train`: a whole run, resumable: fit, final model, results.
- `report`: the evaluation of a trained run.
- `plots`: the figures of a trained run.
- `comparison`: several runs' recorded test bounds side by side.
"""
