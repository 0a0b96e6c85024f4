import torch
from sklearn.datasets import load_digits
from torch import nn

import fedchain


class DigitsClient:
    """Your own CNN, training loop and data (scikit-learn's 8x8 digits) as Flower's NumPyClient methods."""

    def __init__(self, hospital: int, hospitals: int) -> None:
        images, labels = (part[hospital::hospitals] for part in load_digits(return_X_y=True))  # the last fifth: test
        self.x = torch.tensor(images / 16, dtype=torch.float32).reshape(-1, 1, 8, 8)
        self.y, self.cut = torch.tensor(labels), len(labels) * 4 // 5
        self.net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3,
                                 padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 10))

    def get_parameters(self, config):
        return [value.numpy().copy() for value in self.net.state_dict().values()]

    def fit(self, parameters, config):  # config: the task's [training] settings, "server-round" and [config] keys
        self.net.load_state_dict({k: torch.tensor(v) for k, v in zip(self.net.state_dict(), parameters, strict=True)})
        optimizer = torch.optim.SGD(self.net.parameters(), lr=config["learning_rate"], momentum=config["momentum"])
        for batch in [b for _ in range(config["local_epochs"]) for b in torch.randperm(self.cut).split(16)]:
            optimizer.zero_grad()
            nn.functional.cross_entropy(self.net(self.x[batch]), self.y[batch]).backward()
            optimizer.step()
        return self.get_parameters(config), self.cut, {}

    def evaluate(self, parameters, config):
        self.net.load_state_dict({k: torch.tensor(v) for k, v in zip(self.net.state_dict(), parameters, strict=True)})
        logits, labels = self.net(self.x[self.cut:]).detach(), self.y[self.cut:]
        loss, accuracy = nn.functional.cross_entropy(logits, labels), (logits.argmax(1) == labels).float().mean()
        return float(loss), len(labels), {"accuracy": float(accuracy)}


def run(rounds: int = 10, hospitals: int = 4) -> fedchain.SimulationResult:
    task = fedchain.TaskSpec(rounds=rounds, mode="plain", training=fedchain.TrainingSettings(learning_rate=0.1))
    return fedchain.simulate(lambda hospital: DigitsClient(hospital, hospitals), hospitals=hospitals, task=task)
