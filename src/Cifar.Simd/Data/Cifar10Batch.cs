namespace Cifar.Simd.Data;

/// <summary>
/// The records of one CIFAR-10 batch file exactly as stored: each image is 3,072 bytes in the
/// file's channel-planar order (1,024 red, 1,024 green, 1,024 blue bytes, each plane row-major
/// 32×32), and each label is 0–9.
/// </summary>
public sealed class Cifar10Batch
{
    /// <summary>Bytes per image: 3 channels × 32 × 32.</summary>
    public const int ImageBytes = Cifar10.Features;

    /// <summary>The file or archive entry name the batch was read from, e.g. <c>data_batch_1.bin</c>.</summary>
    public string Name { get; }

    /// <summary>The images, <see cref="Count"/> × 3,072 bytes, channel-planar per image.</summary>
    public byte[] Images { get; }

    /// <summary>The labels, one per image, each 0–9.</summary>
    public byte[] Labels { get; }

    /// <summary>The number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>Wraps already validated arrays (no copy).</summary>
    /// <exception cref="ArgumentException"><paramref name="images"/> is not <c>labels.Length × 3072</c> bytes, or a label exceeds 9.</exception>
    public Cifar10Batch(string name, byte[] images, byte[] labels)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.Length != (long)labels.Length * ImageBytes)
            ThrowHelper.Argument($"{nameof(images)} has {images.Length} bytes but {labels.Length} images need exactly {(long)labels.Length * ImageBytes}.", nameof(images));
        for (int i = 0; i < labels.Length; i++)
            ThrowHelper.CheckLabel(labels[i], i, Cifar10.Classes, nameof(labels));
        Name = name;
        Images = images;
        Labels = labels;
    }

    /// <summary>Image <paramref name="index"/>'s 3,072 channel-planar bytes.</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        if ((uint)index >= (uint)Count)
            ThrowHelper.OutOfRange(nameof(index), index, $"Batch {Name} has images 0 to {Count - 1}.");
        return new ReadOnlySpan<byte>(Images, index * ImageBytes, ImageBytes);
    }
}
