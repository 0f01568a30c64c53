using System.Buffers.Binary;
using Cifar.Simd.IO;
using Cifar.Simd.Tests.Data.Download;
using static Cifar.Simd.Tests.IO.SafeTensorsTestData;

namespace Cifar.Simd.Tests.IO;

public class SafeTensorsRefusalTests
{
    private const string W = "\"W\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}";

    /// <summary>(case, header JSON, data bytes, a fragment the message must contain).</summary>
    public static TheoryData<string, string, int, string> Cases() => new()
    {
        { "invalid json", "{\"W\":", 0, "not valid JSON" },
        { "empty header", "", 0, "not valid JSON" },
        { "non-object header", "[1,2,3]", 0, "header is a JSON array, not an object" },
        { "string header", "\"x\"", 0, "not an object" },
        { "unknown dtype", "{\"W\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "dtype 'BF16'" },
        { "dtype not a string", "{\"W\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype that is a JSON number" },
        { "negative shape", "{\"W\":{\"dtype\":\"F32\",\"shape\":[-2,3],\"data_offsets\":[0,24]}}", 24, "shape entry -2" },
        { "fractional shape", "{\"W\":{\"dtype\":\"F32\",\"shape\":[2.5,3],\"data_offsets\":[0,24]}}", 24, "shape entry 2.5" },
        { "exponent shape", "{\"W\":{\"dtype\":\"F32\",\"shape\":[2e0,3],\"data_offsets\":[0,24]}}", 24, "shape entry 2e0" },
        { "huge shape", "{\"W\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4, "shape entry 99999999999999999999" },
        { "shape over int", "{\"W\":{\"dtype\":\"F32\",\"shape\":[4294967296],\"data_offsets\":[0,4]}}", 4, "larger than 2147483647" },
        { "shape product overflows", "{\"W\":{\"dtype\":\"F64\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", 8, "overflows" },
        { "leading dims too large for a tensor", "{\"W\":{\"dtype\":\"F32\",\"shape\":[2147483647,0],\"data_offsets\":[0,0]}}", 0, "larger than a tensor can hold" },
        { "too many elements for a tensor", "{\"W\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,17179869184]}}", 0, "beyond the 0-byte data section" },
        { "shape not an array", "{\"W\":{\"dtype\":\"F32\",\"shape\":6,\"data_offsets\":[0,24]}}", 24, "shape that is a JSON number" },
        { "rank 0", "{\"W\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4, "rank 0" },
        { "rank 5", "{\"W\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, "rank 5" },
        { "byte length mismatch", "{\"W\":{\"dtype\":\"F32\",\"shape\":[3072,100],\"data_offsets\":[0,1000]}}", 1000, "tensor 'W' declares shape [3072, 100] (307200 F32 = 1228800 bytes) but data_offsets span 1000 bytes" },
        { "offset beyond data", "{\"W\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", 16, "beyond the 16-byte data section" },
        { "huge offset", "{\"W\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[18446744073709551608,18446744073709551616]}}", 8, "data offset 18446744073709551608" },
        { "negative offset", "{\"W\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8, "data offset -8" },
        { "begin after end", "{\"W\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8, "begin after end" },
        { "offsets of length 3", "{\"W\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", 8, "not an array [begin, end]" },
        { "missing offsets", "{\"W\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "no 'data_offsets'" },
        { "missing dtype", "{\"W\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "no 'dtype'" },
        { "tensor not an object", "{\"W\":[1]}", 0, "tensor 'W' is a JSON array" },
        { "overlap", "{" + W + ",\"V\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]}}", 24, "overlap" },
        { "gap", "{\"W\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"V\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20, "data bytes [8, 12) before tensor 'V' belong to no tensor" },
        { "leading gap", "{\"W\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "data bytes [0, 4)" },
        { "trailing bytes", "{" + W + "}", 28, "cover only 24" },
        { "duplicate names", "{" + W + "," + W + "}", 24, "names 'W' twice" },
        { "duplicate field", "{\"W\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "'dtype' twice" },
        { "duplicate metadata", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, "names '__metadata__' twice" },
        { "metadata not an object", "{\"__metadata__\":[\"a\"]}", 0, "'__metadata__' is a JSON array" },
        { "metadata value a number", "{\"__metadata__\":{\"epoch\":3}}", 0, "entry 'epoch' is a JSON number, not a string" },
        { "metadata value an object", "{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}", 0, "entry 'a' is a JSON object" },
        { "empty name", "{\"\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "empty name" },
        { "deep nesting", "{\"__metadata__\":" + new string('[', 100) + new string(']', 100) + "}", 0, "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Malformed_file_is_refused_with_the_file_name_and_the_problem(string @case, string header, int dataBytes, string fragment)
    {
        using var dir = new TempDir();
        string path = dir.Combine("bad-model.safetensors");
        File.WriteAllBytes(path, Raw(header, dataBytes));

        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(path));

        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(fragment, e.Message);
        Assert.Equal(path, e.SourceName);
        Assert.IsAssignableFrom<IOException>(e);
        Assert.NotNull(@case);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void File_shorter_than_the_length_field_is_refused(int length)
    {
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Read(new byte[length], "tiny.safetensors"));
        Assert.Equal($"tiny.safetensors: is {length} bytes long; a safetensors file starts with an 8-byte header length", e.Message);
    }

    [Fact]
    public void Header_length_larger_than_the_file_is_refused_before_allocating()
    {
        byte[] bytes = Raw("{}", 0);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Read(bytes, "short.safetensors"));
        Assert.Equal("short.safetensors: header length 1000 bytes is more than the 2 bytes after the length field", e.Message);
    }

    [Theory]
    [InlineData(1UL << 63)]
    [InlineData(ulong.MaxValue)]
    [InlineData(100_000_001UL)]
    public void Huge_header_length_is_refused_before_allocating(ulong headerLength)
    {
        byte[] bytes = Raw("{}", 0);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Read(bytes, "huge.safetensors"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "no allocation from the declared length");
        Assert.Contains($"header length {headerLength} bytes exceeds the 100000000-byte limit", e.Message);
    }

    [Fact]
    public void Invalid_utf8_header_is_refused()
    {
        byte[] bytes = Raw("{\"W\":1}", 0);
        bytes[10] = 0xFF;
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Read(bytes, "utf.safetensors"));
        Assert.Contains("not valid UTF-8", e.Message);
    }

    [Theory]
    [InlineData("{\"\\ud800\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8)]
    [InlineData("{\"__metadata__\":{\"k\":\"\\udc00\"}}", 0)]
    [InlineData("{\"W\":{\"dtype\":\"\\ud800F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8)]
    public void Lone_surrogate_escapes_are_refused_or_read_but_never_throw_anything_else(string header, int dataBytes)
    {
        try { SafeTensors.Read(Raw(header, dataBytes), "surrogate.safetensors"); }
        catch (SafeTensorsFormatException e) { Assert.StartsWith("surrogate.safetensors: ", e.Message); }
    }

    [Fact]
    public void Long_hostile_names_are_shortened_in_messages()
    {
        string name = new('n', 10_000);
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Read(Raw("{\"" + name + "\":1}", 0), "long.safetensors"));
        Assert.True(e.Message.Length < 300, e.Message);
        Assert.Contains("(10000 chars)", e.Message);
    }

    [Fact]
    public void Unknown_tensor_fields_are_ignored_and_the_empty_header_is_a_valid_empty_file()
    {
        var file = SafeTensors.Read(Raw("{\"W\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":[1]}}", 8), "x");
        Assert.Equal(2, file.GetFloat("W").Length);
        Assert.Equal(0, SafeTensors.Read(Raw("{}      ", 0), "x").Count);
    }

    [Fact]
    public void Non_seekable_stream_is_an_argument_error()
    {
        using var pipe = new System.IO.Pipes.AnonymousPipeServerStream();
        Assert.Throws<ArgumentException>(() => SafeTensors.Read(pipe, "pipe"));
    }
}
