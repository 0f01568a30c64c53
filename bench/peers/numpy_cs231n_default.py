#!/usr/bin/env python3
"""CS231n assignment 1's default two-layer run in numpy, timed the way `cifar-simd train` times it.

Loads CIFAR-10 as the notebook does (get_CIFAR10_data: float64, (32, 32, 3) feature order,
49,000 / 1,000 / 1,000 split, training mean subtracted), builds TwoLayerNet(3072, 50, 10) with
np.random.seed(0), and times only net.train(learning_rate=1e-4, learning_rate_decay=0.95,
reg=0.25, num_iters=1000, batch_size=200) - the same span `cifar-simd train` reports as its
training time. Prints the validation accuracy and the seconds, as JSON.

  unset OPENBLAS_CORETYPE   # the environment forces OpenBLAS onto AVX2 kernels otherwise
  /usr/bin/python3 bench/peers/numpy_cs231n_default.py ../shared/cifar10/cifar-10-binary.tar.gz [--dtype float32]
"""
import argparse
import json
import tarfile
import time

import numpy as np


class TwoLayerNet:
    """assignment1/cs231n/classifiers/neural_net.py, the reference solution's arithmetic."""

    def __init__(self, input_size, hidden_size, output_size, std=1e-4, dtype=np.float64):
        self.params = {
            'W1': (std * np.random.randn(input_size, hidden_size)).astype(dtype),
            'b1': np.zeros(hidden_size, dtype),
            'W2': (std * np.random.randn(hidden_size, output_size)).astype(dtype),
            'b2': np.zeros(output_size, dtype),
        }

    def loss(self, X, y=None, reg=0.0):
        W1, b1, W2, b2 = (self.params[k] for k in ('W1', 'b1', 'W2', 'b2'))
        N = X.shape[0]
        h1 = np.maximum(0, X.dot(W1) + b1)
        scores = h1.dot(W2) + b2
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        probs = exp / exp.sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(N), y]).sum() / N + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dscores = probs
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads = {'W2': h1.T.dot(dscores) + 2 * reg * W2, 'b2': dscores.sum(axis=0)}
        dh1 = dscores.dot(W2.T)
        dh1[h1 <= 0] = 0
        grads['W1'] = X.T.dot(dh1) + 2 * reg * W1
        grads['b1'] = dh1.sum(axis=0)
        return loss, grads

    def train(self, X, y, X_val, y_val, learning_rate, learning_rate_decay, reg, num_iters, batch_size):
        num_train = X.shape[0]
        iterations_per_epoch = max(num_train / batch_size, 1)
        val_acc_history = []
        for it in range(num_iters):
            idx = np.random.choice(num_train, batch_size, replace=True)
            X_batch, y_batch = X[idx], y[idx]
            loss, grads = self.loss(X_batch, y=y_batch, reg=reg)
            for p in self.params:
                self.params[p] -= learning_rate * grads[p]
            if it % iterations_per_epoch == 0:
                val_acc_history.append((self.predict(X_val) == y_val).mean())
                learning_rate *= learning_rate_decay
        return val_acc_history

    def predict(self, X):
        return np.argmax(self.loss(X), axis=1)


def load_binary(path):
    """The official binary archive: 1 label byte + 3072 channel-planar bytes per record."""
    train, test = [], None
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            name = member.name.rsplit('/', 1)[-1]
            if not name.endswith('.bin') or 'batch' not in name:
                continue
            raw = np.frombuffer(tar.extractfile(member).read(), np.uint8).reshape(-1, 3073)
            if name == 'test_batch.bin':
                test = raw
            else:
                train.append((name, raw))
    train = np.concatenate([r for _, r in sorted(train)])
    def split(raw):
        # load_CIFAR_batch: reshape (N, 3, 32, 32), transpose to (N, 32, 32, 3), astype float.
        x = raw[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype('float')
        return x, raw[:, 0].astype(np.int64)
    return split(train) + split(test)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('archive')
    ap.add_argument('--dtype', choices=['float64', 'float32'], default='float64')
    args = ap.parse_args()
    X_train, y_train, X_test, y_test = load_binary(args.archive)
    X_val, y_val = X_train[49000:50000], y_train[49000:50000]
    X_train, y_train = X_train[:49000], y_train[:49000]
    mean_image = X_train.mean(axis=0)
    X_train = (X_train - mean_image).reshape(49000, -1).astype(args.dtype)
    X_val = (X_val - mean_image).reshape(1000, -1).astype(args.dtype)
    np.random.seed(0)
    net = TwoLayerNet(3072, 50, 10, dtype=args.dtype)
    start = time.perf_counter()
    net.train(X_train, y_train, X_val, y_val, learning_rate=1e-4, learning_rate_decay=0.95, reg=0.25,
              num_iters=1000, batch_size=200)
    seconds = time.perf_counter() - start
    val_acc = (net.predict(X_val) == y_val).mean()
    print(json.dumps({'workload': 'cs231n-default-train', 'dtype': args.dtype, 'numpy': np.__version__,
                      'val_acc': float(val_acc), 'train_seconds': seconds}))


if __name__ == '__main__':
    main()
