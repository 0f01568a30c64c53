using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using Cifar.Simd.IO;
using Cifar.Simd.Tensors;

namespace Cifar.Simd.Tests.IO;

/// <summary>Builders for safetensors test inputs: valid files, and raw files from a header string.</summary>
internal static class SafeTensorsTestData
{
    /// <summary>The folder of this source file, where the golden file and its scripts live.</summary>
    public static string SourceFolder([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    /// <summary>A float tensor of the given shape holding 0.5·i − 3 (exact in float).</summary>
    public static Tensor<float> Floats(params int[] dims)
    {
        var t = Tensor<float>.Zeros(dims);
        for (int i = 0; i < t.Length; i++) t[i] = 0.5f * i - 3f;
        return t;
    }

    /// <summary>A double tensor of the given shape holding i/3 − 1 (not exact in float, so F64 is really needed).</summary>
    public static Tensor<double> Doubles(params int[] dims)
    {
        var t = Tensor<double>.Zeros(dims);
        for (int i = 0; i < t.Length; i++) t[i] = i / 3.0 - 1;
        return t;
    }

    /// <summary>A small valid file: F32 and F64 tensors of ranks 1 to 4 plus metadata.</summary>
    public static SafeTensorsFile SmallModel()
    {
        var file = new SafeTensorsFile();
        file.Add("W1", Floats(4, 3));
        file.Add("b1", Floats(3));
        file.Add("W2", Doubles(3, 2));
        file.Add("x3", Floats(2, 1, 3));
        file.Add("x4", Doubles(1, 2, 1, 2));
        file.Metadata["format"] = "cifar-simd";
        file.Metadata["epoch"] = "3";
        return file;
    }

    /// <summary>A file whose header is exactly <paramref name="json"/> (UTF-8, unpadded) followed by <paramref name="dataBytes"/> bytes of data.</summary>
    public static byte[] Raw(string json, int dataBytes)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        for (int i = 8 + header.Length; i < bytes.Length; i++) bytes[i] = (byte)i;
        return bytes;
    }
}
