"""Numbers and figures of a trained model, from arrays of images (no run directory):

- `scoring`: the test log-likelihood (IW bound) and ELBO over a dataset, compiled.
- `analysis`: per-unit KL, active units, KL to N(0, I), posterior samples, PCA.
- `batch_norm`: batch-norm statistics recomputed from one pass over the training set.
- `images`: the images a model generates (prior samples, reconstructions, per layer).
- `figures`: the paper's figures with matplotlib, and image grids.
- `compiled`: the compiled functions of a model's evaluations, traced once.
"""
