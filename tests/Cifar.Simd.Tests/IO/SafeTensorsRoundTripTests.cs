using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Cifar.Simd.IO;
using Cifar.Simd.Tensors;
using Cifar.Simd.Tests.Data.Download;
using static Cifar.Simd.Tests.IO.SafeTensorsTestData;

namespace Cifar.Simd.Tests.IO;

public class SafeTensorsRoundTripTests
{
    public static TheoryData<int[]> Shapes() => new()
    {
        new[] { 7 }, new[] { 0 }, new[] { 3, 5 }, new[] { 2, 0 }, new[] { 2, 3, 4 }, new[] { 2, 1, 3, 2 }, new[] { 1, 1, 1, 1 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float_and_double_tensors_round_trip_through_a_file(int[] dims)
    {
        using var dir = new TempDir();
        string path = dir.Combine("model.safetensors");
        var file = new SafeTensorsFile();
        var f = Floats(dims);
        var d = Doubles(dims);
        // NaN, infinities, subnormals and -0 must survive bit for bit.
        if (f.Length > 1) { f[0] = float.NaN; f[1] = float.NegativeInfinity; d[1] = -0.0; d[0] = double.Epsilon; }
        file.Add("f", f);
        file.Add("d", d);

        file.Save(path);
        var loaded = SafeTensors.Load(path);

        Assert.Equal(["f", "d"], loaded.Tensors.Select(t => t.Name));
        Assert.Equal(SafeTensorsDType.F32, loaded["f"].DType);
        Assert.Equal(SafeTensorsDType.F64, loaded["d"].DType);
        Assert.Equal(f.Shape, loaded.GetFloat("f").Shape);
        Assert.Equal(d.Shape, loaded.GetDouble("d").Shape);
        Assert.Equal(MemoryMarshal.AsBytes(f.AsReadOnlySpan()).ToArray(), MemoryMarshal.AsBytes(loaded.GetFloat("f").AsReadOnlySpan()).ToArray());
        Assert.Equal(MemoryMarshal.AsBytes(d.AsReadOnlySpan()).ToArray(), MemoryMarshal.AsBytes(loaded.GetDouble("d").AsReadOnlySpan()).ToArray());
        Assert.Empty(loaded.Metadata);
    }

    [Fact]
    public void Metadata_and_order_round_trip_in_memory()
    {
        var file = SmallModel();
        file.Metadata["unicode"] = "é ✓ \"quoted\" \n";
        var loaded = SafeTensors.Read(SafeTensors.ToBytes(file), "mem");

        Assert.Equal(file.Tensors.Select(t => t.ToString()), loaded.Tensors.Select(t => t.ToString()));
        Assert.Equal(file.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal), loaded.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(file.GetDouble("x4").ToArray(), loaded.GetDouble("x4").ToArray());
        Assert.Equal(file.GetFloat("W1").ToArray(), loaded.GetFloat("W1").ToArray());
    }

    [Fact]
    public void Byte_layout_is_length_then_padded_json_then_contiguous_little_endian_data()
    {
        var file = SmallModel();
        byte[] bytes = SafeTensors.ToBytes(file);

        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, (8 + n) % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.StartsWith("{\"__metadata__\":{\"format\":\"cifar-simd\",\"epoch\":\"3\"},\"W1\":{\"dtype\":\"F32\",\"shape\":[4,3],\"data_offsets\":[0,48]}", header);
        Assert.True(n - (ulong)header.TrimEnd(' ').Length < 8, "padding is fewer than 8 spaces");

        using var json = JsonDocument.Parse(header);
        int dataStart = 8 + (int)n;
        long expectedOffset = 0;
        foreach (var tensor in file.Tensors)
        {
            var info = json.RootElement.GetProperty(tensor.Name);
            Assert.Equal(tensor.Shape.ToArray(), info.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
            long begin = info.GetProperty("data_offsets")[0].GetInt64(), end = info.GetProperty("data_offsets")[1].GetInt64();
            Assert.Equal(expectedOffset, begin);
            Assert.Equal(tensor.ByteLength, end - begin);
            var data = bytes.AsSpan(dataStart + (int)begin, (int)(end - begin));
            if (tensor is SafeTensor<float> f)
                for (int i = 0; i < f.Tensor.Length; i++)
                    Assert.Equal(f.Tensor[i], BinaryPrimitives.ReadSingleLittleEndian(data[(4 * i)..]));
            else
            {
                var d = (SafeTensor<double>)tensor;
                for (int i = 0; i < d.Tensor.Length; i++)
                    Assert.Equal(d.Tensor[i], BinaryPrimitives.ReadDoubleLittleEndian(data[(8 * i)..]));
            }
            expectedOffset = end;
        }
        Assert.Equal(bytes.Length - dataStart, expectedOffset);
    }

    [Fact]
    public void Golden_file_from_the_numpy_writer_loads_and_our_writer_reproduces_it_byte_for_byte()
    {
        string path = Path.Combine(SourceFolder(), "golden.safetensors");
        var golden = SafeTensors.Load(path);

        Assert.Equal(["W1", "b1", "x3", "x4", "empty"], golden.Tensors.Select(t => t.Name));
        Assert.Equal("cifar-simd", golden.Metadata["format"]);
        Assert.Equal("golden file, numpy writer", golden.Metadata["note"]);
        var w1 = golden.GetFloat("W1");
        Assert.Equal(Shape.Matrix(2, 3), w1.Shape);
        Assert.Equal([-1.25f, -0.75f, -0.25f, 0.25f, 0.75f, 1.25f], w1.ToArray());
        Assert.Equal([1.0, -2.0, 0.1, 1e-300], golden.GetDouble("b1").ToArray());
        var x3 = golden.GetFloat("x3");
        Assert.Equal(new Shape(2, 3, 2), x3.Shape);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i / 8f), x3.ToArray());
        var x4 = golden.GetDouble("x4");
        Assert.Equal(new Shape(1, 2, 2, 3), x4.Shape);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => -(double)i / 3.0), x4.ToArray());
        Assert.Equal(new Shape(0, 5), golden.GetFloat("empty").Shape);

        var mine = new SafeTensorsFile();
        mine.Metadata["format"] = "cifar-simd";
        mine.Metadata["note"] = "golden file, numpy writer";
        foreach (var t in golden.Tensors)
        {
            if (t is SafeTensor<float> f) mine.Add(t.Name, f.Tensor.Clone());
            else mine.Add(t.Name, ((SafeTensor<double>)t).Tensor.Clone());
        }
        Assert.Equal(File.ReadAllBytes(path), SafeTensors.ToBytes(mine));
    }

    [Fact]
    public void Save_replaces_an_existing_file_and_leaves_no_temporary_file()
    {
        using var dir = new TempDir();
        string path = dir.Combine("model.safetensors");
        File.WriteAllText(path, "old");
        SmallModel().Save(path);
        Assert.Equal(["model.safetensors"], dir.Listing());
        Assert.Equal(5, SafeTensors.Load(path).Count);
    }

    [Fact]
    public void Names_are_checked_when_added()
    {
        var file = new SafeTensorsFile();
        file.Add("a", Floats(1));
        Assert.Throws<ArgumentException>(() => file.Add("a", Doubles(1)));
        Assert.Throws<ArgumentException>(() => file.Add(SafeTensorsFile.MetadataKey, Floats(1)));
        Assert.Throws<ArgumentException>(() => file.Add("", Floats(1)));
        Assert.Throws<KeyNotFoundException>(() => file["b"]);
        Assert.Throws<InvalidCastException>(() => file.GetDouble("a"));
    }

    [Fact]
    public void Missing_file_is_an_ordinary_FileNotFoundException()
    {
        using var dir = new TempDir();
        Assert.Throws<FileNotFoundException>(() => SafeTensors.Load(dir.Combine("nope.safetensors")));
    }
}
