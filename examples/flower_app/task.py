"""flower_app: a Flower / PyTorch app on scikit-learn's handwritten digits."""

from functools import lru_cache

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    """A small CNN for 8x8 grey-scale digits."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(torch.relu(self.conv(x)))
        return self.fc(torch.flatten(x, 1))


@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits as (N, 1, 8, 8) float32 images in [0, 1] and int64 labels, in a fixed shuffled order."""
    images, labels = load_digits(return_X_y=True)
    order = np.random.default_rng(42).permutation(len(labels))
    return (images[order] / 16.0).astype(np.float32).reshape(-1, 1, 8, 8), labels[order].astype(np.int64)


def load_data(partition_id: int, num_partitions: int, batch_size: int) -> tuple[DataLoader, DataLoader]:
    """The partition's train (80%) and test (20%) loaders; partitions are disjoint IID slices of the digits."""
    images, labels = _digits()
    part = np.array_split(np.arange(len(labels)), num_partitions)[partition_id]
    cut = int(0.8 * len(part))
    train_set = TensorDataset(torch.from_numpy(images[part[:cut]]), torch.from_numpy(labels[part[:cut]]))
    test_set = TensorDataset(torch.from_numpy(images[part[cut:]]), torch.from_numpy(labels[part[cut:]]))
    return DataLoader(train_set, batch_size=batch_size, shuffle=True), DataLoader(test_set, batch_size=batch_size)


def train(net: Net, trainloader: DataLoader, epochs: int, lr: float, device: torch.device) -> float:
    """Train the model on the training set; return the average training loss."""
    net.to(device)
    criterion = nn.CrossEntropyLoss().to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    net.train()
    running_loss = 0.0
    for _ in range(epochs):
        for images, labels in trainloader:
            optimizer.zero_grad()
            loss = criterion(net(images.to(device)), labels.to(device))
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
    return running_loss / (epochs * len(trainloader))


def test(net: Net, testloader: DataLoader, device: torch.device) -> tuple[float, float]:
    """Validate the model on the test set; return the average loss and the accuracy."""
    net.to(device)
    criterion = nn.CrossEntropyLoss()
    net.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for images, labels in testloader:
            outputs = net(images.to(device))
            loss += criterion(outputs, labels.to(device)).item()
            correct += (torch.max(outputs, 1)[1] == labels.to(device)).sum().item()
    return loss / len(testloader), correct / len(testloader.dataset)
