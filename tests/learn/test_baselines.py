import pytest

from fedchain.learn import FederatedSplit, ModelSpec, TrainConfig, TrainerError, run_baselines


def test_pooled_and_local_baselines(breast_cancer_split: FederatedSplit, mlp_spec: ModelSpec) -> None:
    config = TrainConfig(local_epochs=1, batch_size=16, learning_rate=0.05, seed=0)
    report = run_baselines(mlp_spec, breast_cancer_split.clients, breast_cancer_split.test, config, 2, 0)
    assert report.pooled.num_examples == len(breast_cancer_split.test)
    assert report.pooled.accuracy > 0.9
    assert list(report.local) == [client.name for client in breast_cancer_split.clients]
    summary = report.summary()
    assert next(iter(summary)) == "pooled"
    assert set(summary["pooled"]) == {"accuracy", "auc"}
    assert all(0.0 <= row["accuracy"] <= 1.0 for row in summary.values())  # type: ignore[operator]
    again = run_baselines(mlp_spec, breast_cancer_split.clients, breast_cancer_split.test, config, 2, 0)
    assert again.summary() == summary


def test_rounds_must_be_positive(breast_cancer_split: FederatedSplit, mlp_spec: ModelSpec) -> None:
    with pytest.raises(TrainerError, match="rounds"):
        run_baselines(mlp_spec, breast_cancer_split.clients, breast_cancer_split.test, TrainConfig(), 0, 0)
