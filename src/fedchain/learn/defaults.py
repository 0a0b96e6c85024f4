"""Constants and defaults of the learning layer, in one place."""

from typing import Final, Literal

# Held-out test split used by every built-in dataset preparation.
DEFAULT_TEST_FRACTION: Final = 0.2
DEFAULT_SPLIT_SEED: Final = 0

# Local training defaults: the task schema's (fedchain.task.schema.TrainingSettings), overridable per fit call
# through the config dict.
DEFAULT_LOCAL_EPOCHS: Final = 1
DEFAULT_BATCH_SIZE: Final = 16
DEFAULT_LEARNING_RATE: Final = 0.05
DEFAULT_OPTIMIZER: Final = "sgd"
DEFAULT_MOMENTUM: Final = 0.9
SUPPORTED_OPTIMIZERS: Final = ("sgd", "adam")
CONFIG_OPTIMIZER: Final = "optimizer"
CONFIG_MOMENTUM: Final = "momentum"
DEVICES: Final = ("cpu", "cuda", "auto")

# Keys a server may put into a fit config to override the trainer's TrainConfig for that call.
CONFIG_LOCAL_EPOCHS: Final = "local_epochs"
CONFIG_BATCH_SIZE: Final = "batch_size"
CONFIG_LEARNING_RATE: Final = "learning_rate"

# Default hidden layer widths of TabularMLP.
DEFAULT_MLP_HIDDEN: Final = (32,)

# ImageCNN: feature maps of its first convolution (the second has twice as many).
DEFAULT_CNN_CHANNELS: Final = 8

# Dirichlet partitioner: how many resamples before giving up on the minimum client size.
DIRICHLET_MAX_ATTEMPTS: Final = 1000
DEFAULT_MIN_CLIENT_SIZE: Final = 1

# lifelines `lung`: label = death within this many days of enrolment.
LUNG_HORIZON_DAYS: Final = 365
LUNG_GROUP_COLUMN: Final = "inst"

# Standardization: features whose training standard deviation is below this are only centred.
MIN_FEATURE_STD: Final = 1e-12

# How raw features become a model's inputs (a task's [data]: fedchain.learn.preprocess.Preprocessing).
Normalization = Literal["standardize", "none"]
Missing = Literal["refuse", "mean"]
