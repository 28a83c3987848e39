"""A training run and its directory:

- `run_dir`: every record of a run directory, its path, reader and writer.
- `configure`: a new run's RunConfig, from the paper's preset for its dataset.
- `checkpoints`: the training state saved every epoch, and which file holds a run's model.
- `callbacks`: the callbacks that watch and record training (test bounds, per-unit KL,
  the epoch line, metrics.csv).
- `distribute`: the tf.distribute strategy a run trains under.
- `train`: a whole run, resumable: fit, final model, results.
- `report`: the evaluation of a trained run.
"""
