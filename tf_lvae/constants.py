"""The paper's numbers, each named once (docs/method.md §4, §6): the largest model's sizes,
the K of the test log-likelihood and the fine-tuning's budget; and the levels of 8-bit
images."""

PAPER_LATENT_DIMS = (64, 32, 16, 8, 4)
PAPER_HIDDEN_DIMS = (512, 256, 128, 64, 32)
PAPER_NUM_LAYERS = len(PAPER_LATENT_DIMS)  # the largest model: 5 latent layers
PAPER_TEST_IW_SAMPLES = 5000  # K of the test log-likelihood
FINETUNE_EPOCHS = 2000  # the fine-tuning's further epochs
FINETUNE_DECAY_EPOCHS = 200  # its learning rate falls by 0.75 every this many epochs
FINETUNE_SAMPLES = 10  # its MC and IW samples
EIGHT_BIT_LEVELS = 256  # the values k / 255 of an 8-bit image, k = 0..255
