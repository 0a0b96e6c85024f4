"""The learning layer's fixtures (a small breast-cancer split, an MLP spec, one torch thread), shared."""

from tests.learn.conftest import breast_cancer_split, mlp_spec, single_torch_thread

__all__ = ["breast_cancer_split", "mlp_spec", "single_torch_thread"]
