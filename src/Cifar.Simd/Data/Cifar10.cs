using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Data;

/// <summary>How the 3,072 features of one image are ordered.</summary>
public enum Cifar10FeatureOrder
{
    /// <summary>
    /// Height, width, channel: feature <c>k = (row·32 + col)·3 + channel</c>. This is CS231n's
    /// <c>load_CIFAR_batch</c> (reshape to (3, 32, 32), transpose to (32, 32, 3)) flattened by
    /// <c>X.reshape(N, -1)</c>, as in assignment 1.
    /// </summary>
    HeightWidthChannel,

    /// <summary>
    /// Channel, height, width: feature <c>k = channel·1024 + row·32 + col</c>, the files' own order, which is what
    /// assignment 2's <c>get_CIFAR10_data</c> yields after its final <c>transpose(0, 3, 1, 2)</c>.
    /// </summary>
    ChannelHeightWidth,
}

/// <summary>
/// CIFAR-10: reading the official binary and python layouts (<see cref="Load"/>), decoding images to
/// feature rows (<see cref="Decode{T}(ReadOnlySpan{byte}, Cifar10FeatureOrder)"/>), and CS231n's
/// train/validation/test/dev split with mean-image subtraction (<see cref="Split{T}"/>).
/// </summary>
public static partial class Cifar10
{
    /// <summary>The number of classes.</summary>
    public const int Classes = 10;

    /// <summary>Image height and width in pixels.</summary>
    public const int ImageSize = 32;

    /// <summary>Colour channels per pixel.</summary>
    public const int Channels = 3;

    /// <summary>Features (bytes) per image: 3 × 32 × 32 = 3,072.</summary>
    public const int Features = Channels * ImageSize * ImageSize;

    /// <summary>Bytes per record of the binary format: one label byte and 3,072 pixel bytes.</summary>
    public const int RecordBytes = 1 + Features;

    private const int Plane = ImageSize * ImageSize;

    /// <summary>
    /// Converts channel-planar images (<c>N × 3072</c> bytes, as in <see cref="Cifar10Batch.Images"/>) to an
    /// (N, 3072) tensor of pixel values 0–255 in the given feature order.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="images"/> is not a whole number of 3,072-byte images.</exception>
    public static Tensor<T> Decode<T>(ReadOnlySpan<byte> images, Cifar10FeatureOrder order = Cifar10FeatureOrder.HeightWidthChannel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (images.Length % Features != 0)
            ThrowHelper.Argument($"{nameof(images)} has {images.Length} bytes, not a whole number of {Features}-byte images.", nameof(images));
        var result = Tensor<T>.Uninitialized(images.Length / Features, Features);
        Decode(images, result.AsSpan(), order);
        return result;
    }

    /// <summary>
    /// Converts channel-planar images to pixel values 0–255 in the given feature order, writing
    /// <c>images.Length</c> values to <paramref name="destination"/> (the span form: no allocation).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="images"/> is not a whole number of images, or <paramref name="destination"/> is too short.</exception>
    public static void Decode<T>(ReadOnlySpan<byte> images, Span<T> destination, Cifar10FeatureOrder order = Cifar10FeatureOrder.HeightWidthChannel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (images.Length % Features != 0)
            ThrowHelper.Argument($"{nameof(images)} has {images.Length} bytes, not a whole number of {Features}-byte images.", nameof(images));
        ThrowHelper.CheckLength(destination.Length, images.Length, nameof(destination), $"decoding {images.Length / Features} images");
        CheckOrder(order);
        if (typeof(T) == typeof(float))
            DecodeCore(images, MemoryMarshal.Cast<T, float>(destination), order, ReadOnlySpan<double>.Empty);
        else if (typeof(T) == typeof(double))
            DecodeCore(images, MemoryMarshal.Cast<T, double>(destination), order, ReadOnlySpan<double>.Empty);
        else
            throw new NotSupportedException($"Decode<{typeof(T).Name}> is not supported; use float or double.");
    }

    private static void CheckOrder(Cifar10FeatureOrder order)
    {
        if (order is not (Cifar10FeatureOrder.HeightWidthChannel or Cifar10FeatureOrder.ChannelHeightWidth))
            ThrowHelper.OutOfRange(nameof(order), order, "The feature order is HeightWidthChannel or ChannelHeightWidth.");
    }

    /// <summary>
    /// Decodes images and subtracts <paramref name="mean"/> (one value per feature, already in the output order;
    /// empty for none). The difference is taken in double and rounded once to the output type.
    /// </summary>
    private static void DecodeCore<TOut>(ReadOnlySpan<byte> images, Span<TOut> destination, Cifar10FeatureOrder order, ReadOnlySpan<double> mean)
        where TOut : unmanaged, IFloatingPointIeee754<TOut>
    {
        int n = images.Length / Features;
        ref byte src0 = ref MemoryMarshal.GetReference(images);
        ref TOut dst0 = ref MemoryMarshal.GetReference(destination);
        bool hwc = order == Cifar10FeatureOrder.HeightWidthChannel;
        bool subtract = !mean.IsEmpty;
        ref double m = ref MemoryMarshal.GetReference(mean);
        // A byte-to-T lookup table turns each conversion into one load (and is exact for every byte).
        Span<TOut> table = stackalloc TOut[256];
        for (int v = 0; v < 256; v++) table[v] = TOut.CreateTruncating(v);
        ref TOut t = ref MemoryMarshal.GetReference(table);
        for (int i = 0; i < n; i++)
        {
            ref byte r = ref Unsafe.Add(ref src0, i * Features);
            ref TOut d = ref Unsafe.Add(ref dst0, i * Features);
            if (hwc)
            {
                ref byte g = ref Unsafe.Add(ref r, Plane);
                ref byte b = ref Unsafe.Add(ref r, 2 * Plane);
                if (!subtract && typeof(TOut) == typeof(float) && Avx512F.IsSupported)
                {
                    DecodeHwcFloatAvx512(ref r, ref Unsafe.As<TOut, float>(ref d));
                }
                else if (!subtract)
                {
                    for (int p = 0; p < Plane; p++)
                    {
                        Unsafe.Add(ref d, 3 * p) = Unsafe.Add(ref t, Unsafe.Add(ref r, p));
                        Unsafe.Add(ref d, 3 * p + 1) = Unsafe.Add(ref t, Unsafe.Add(ref g, p));
                        Unsafe.Add(ref d, 3 * p + 2) = Unsafe.Add(ref t, Unsafe.Add(ref b, p));
                    }
                }
                else
                {
                    for (int p = 0; p < Plane; p++)
                    {
                        Unsafe.Add(ref d, 3 * p) = TOut.CreateTruncating(Unsafe.Add(ref r, p) - Unsafe.Add(ref m, 3 * p));
                        Unsafe.Add(ref d, 3 * p + 1) = TOut.CreateTruncating(Unsafe.Add(ref g, p) - Unsafe.Add(ref m, 3 * p + 1));
                        Unsafe.Add(ref d, 3 * p + 2) = TOut.CreateTruncating(Unsafe.Add(ref b, p) - Unsafe.Add(ref m, 3 * p + 2));
                    }
                }
            }
            else if (!subtract && typeof(TOut) == typeof(float) && Avx512F.IsSupported)
            {
                ref float df = ref Unsafe.As<TOut, float>(ref d);
                for (nuint k = 0; k < Features; k += 16)
                    Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref r, k))).StoreUnsafe(ref df, k);
            }
            else if (!subtract)
            {
                for (int k = 0; k < Features; k++) Unsafe.Add(ref d, k) = Unsafe.Add(ref t, Unsafe.Add(ref r, k));
            }
            else
            {
                for (int k = 0; k < Features; k++) Unsafe.Add(ref d, k) = TOut.CreateTruncating(Unsafe.Add(ref r, k) - Unsafe.Add(ref m, k));
            }
        }
    }

    // Two-source permute controls that interleave 16 R, 16 G, 16 B floats into 48 floats (3 vectors) of
    // R G B triples: step A places R (index p) and G (16 + p) lanes, step B places B (16 + p) and keeps the rest.
    private static readonly Vector512<int>[] HwcStepA = HwcControls(stepB: false);
    private static readonly Vector512<int>[] HwcStepB = HwcControls(stepB: true);

    private static Vector512<int>[] HwcControls(bool stepB)
    {
        var controls = new Vector512<int>[3];
        Span<int> lanes = stackalloc int[16];
        for (int v = 0; v < 3; v++)
        {
            for (int l = 0; l < 16; l++)
            {
                int j = 16 * v + l, p = j / 3, c = j % 3;
                lanes[l] = stepB ? (c == 2 ? 16 + p : l) : (c == 0 ? p : c == 1 ? 16 + p : 0);
            }
            controls[v] = Vector512.Create<int>(lanes);
        }
        return controls;
    }

    /// <summary>One image, channel-planar bytes at <paramref name="r"/> → 3,072 HWC floats at <paramref name="d"/>, 16 pixels a step.</summary>
    private static void DecodeHwcFloatAvx512(ref byte r, ref float d)
    {
        var a0 = HwcStepA[0]; var a1 = HwcStepA[1]; var a2 = HwcStepA[2];
        var b0 = HwcStepB[0]; var b1 = HwcStepB[1]; var b2 = HwcStepB[2];
        for (nuint p = 0; p < Plane; p += 16)
        {
            var vr = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref r, p)));
            var vg = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref r, p + Plane)));
            var vb = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref r, p + 2 * Plane)));
            Avx512F.PermuteVar16x32x2(Avx512F.PermuteVar16x32x2(vr, a0, vg), b0, vb).StoreUnsafe(ref d, 3 * p);
            Avx512F.PermuteVar16x32x2(Avx512F.PermuteVar16x32x2(vr, a1, vg), b1, vb).StoreUnsafe(ref d, 3 * p + 16);
            Avx512F.PermuteVar16x32x2(Avx512F.PermuteVar16x32x2(vr, a2, vg), b2, vb).StoreUnsafe(ref d, 3 * p + 32);
        }
    }
}
