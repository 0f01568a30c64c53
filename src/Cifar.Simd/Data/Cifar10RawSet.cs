namespace Cifar.Simd.Data;

/// <summary>The on-disk layout a CIFAR-10 set was read from.</summary>
public enum Cifar10Format
{
    /// <summary>The official "binary version": <c>cifar-10-batches-bin/data_batch_1.bin</c> …, 3,073-byte records.</summary>
    Binary,

    /// <summary>The official "python version": <c>cifar-10-batches-py/data_batch_1</c> …, Python 2 cPickle protocol-2 dicts.</summary>
    Python,
}

/// <summary>
/// The whole CIFAR-10 set as stored: the five training batches concatenated in order
/// (as CS231n's <c>load_CIFAR10</c> does), the test batch, and the label names from the meta file.
/// Images stay in the file's channel-planar byte order; <see cref="Cifar10.Decode{T}(ReadOnlySpan{byte}, Cifar10FeatureOrder)"/>
/// turns them into features.
/// </summary>
public sealed class Cifar10RawSet
{
    /// <summary>The five training batches concatenated, as read (<see cref="TrainCount"/> × 3,072 bytes).</summary>
    public Cifar10Batch Train { get; }

    /// <summary>The test batch, as read.</summary>
    public Cifar10Batch Test { get; }

    /// <summary>The class names in label order, from <c>batches.meta.txt</c> or <c>batches.meta</c>.</summary>
    public IReadOnlyList<string> LabelNames { get; }

    /// <summary>Which layout the set was read from.</summary>
    public Cifar10Format Format { get; }

    /// <summary>The number of training images (50,000 for the official set).</summary>
    public int TrainCount => Train.Count;

    /// <summary>The number of test images (10,000 for the official set).</summary>
    public int TestCount => Test.Count;

    /// <summary>Assembles a set from batches already read.</summary>
    public Cifar10RawSet(Cifar10Batch train, Cifar10Batch test, IReadOnlyList<string> labelNames, Cifar10Format format)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(labelNames);
        Train = train;
        Test = test;
        LabelNames = labelNames;
        Format = format;
    }
}
