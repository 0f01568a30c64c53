using System.Buffers.Binary;
using System.Text;

namespace Cifar.Simd.Data;

/// <summary>
/// A pickle VM for exactly the subset that CIFAR-10's Python 2 cPickle protocol-2 files use:
/// dicts, lists, tuples, byte strings, small ints, None/bool, the memo, and three numpy globals
/// (<c>numpy.core.multiarray._reconstruct</c>, <c>numpy.ndarray</c>, <c>numpy.dtype</c>) that
/// together can only build a uint8 ndarray. It never imports or constructs anything else, and
/// every length is checked against the bytes that remain before anything is allocated. Work and
/// memory stay linear in a bounded amount: at most <see cref="MaxOpcodes"/> opcodes run, dict keys
/// are at most <see cref="MaxKeyBytes"/> bytes, and each string is decoded at most once.
/// </summary>
internal sealed class PickleReader
{
    // Values on the stack: long, PickleBytes, PickleNone, bool, List<object>, PickleDict,
    // object[] (tuple), PickleGlobal, PickleNdArray, PickleDtype.
    internal sealed class PickleNone { public static readonly PickleNone Value = new(); }

    internal enum PickleGlobal { Reconstruct, NdArray, Dtype }

    /// <summary>A byte string: a slice of the input buffer (no copy of the 30 MB payload).</summary>
    internal sealed class PickleBytes(ArraySegment<byte> bytes)
    {
        private string? _text;

        public ArraySegment<byte> Bytes { get; } = bytes;

        // Decoded once: the memo can put the same string in a list or dict many times over.
        public string Text => _text ??= Encoding.Latin1.GetString(Bytes);

        public bool Is(ReadOnlySpan<byte> ascii) => Bytes.AsSpan().SequenceEqual(ascii);

        /// <summary>The text for an error message, shortened when long.</summary>
        public string Quoted => Bytes.Count <= 40 ? $"'{Text}'" : $"'{Encoding.Latin1.GetString(Bytes.AsSpan(0, 32))}…' ({Bytes.Count:N0} bytes)";
    }

    /// <summary>
    /// The most opcodes a pickle may run. An official 10,000-image batch runs about 30,000 (one per label, two per
    /// file name); the cap bounds the objects, stack and memo a hostile file can build to a few tens of MB.
    /// </summary>
    public const int MaxOpcodes = 1 << 19;

    /// <summary>The longest dict key accepted; CIFAR-10's are a few words, and a key is hashed every time it is set.</summary>
    public const int MaxKeyBytes = 256;

    /// <summary>A dict with byte-string keys (the only kind CIFAR-10 files hold).</summary>
    internal sealed class PickleDict
    {
        private static readonly Dictionary<string, object> NoItems = [];
        private Dictionary<string, object>? _items;

        public IReadOnlyDictionary<string, object> Items => _items ?? NoItems;

        // The dictionary is made on the first item, so half a million empty dicts stay small.
        public void Set(string key, object value) => (_items ??= new(StringComparer.Ordinal))[key] = value;
    }

    /// <summary>An ndarray made by <c>_reconstruct</c>, filled in by BUILD.</summary>
    internal sealed class PickleNdArray
    {
        public int[]? Shape;
        public ArraySegment<byte> Data;
    }

    /// <summary>A numpy dtype; only <c>u1</c> is accepted.</summary>
    internal sealed class PickleDtype { public bool Built; }

    private sealed class Mark { public static readonly Mark Value = new(); }

    private readonly byte[] _buffer;
    private readonly int _end;
    private readonly string _fileName;
    private int _pos;

    private PickleReader(ArraySegment<byte> data, string fileName)
    {
        _buffer = data.Array ?? [];
        _pos = data.Offset;
        _end = data.Offset + data.Count;
        _fileName = fileName;
    }

    /// <summary>Runs the pickle in <paramref name="data"/> and returns the object STOP yields.</summary>
    /// <exception cref="InvalidDataException">Anything outside the accepted subset, or a truncated stream.</exception>
    public static object Load(ArraySegment<byte> data, string fileName) => new PickleReader(data, fileName).Run();

    private InvalidDataException Error(string problem) => CifarFormatError.Create(_fileName, problem);

    private int Remaining => _end - _pos;

    private byte ReadByte()
    {
        if (_pos >= _end) throw Error($"the pickle is truncated at offset {_pos} (it ends without STOP).");
        return _buffer[_pos++];
    }

    private ReadOnlySpan<byte> ReadSpan(long length, string what)
    {
        if (length < 0 || length > Remaining)
            throw Error($"{what} at offset {_pos} claims {length} bytes but only {Remaining} remain (truncated or corrupt pickle).");
        var span = new ReadOnlySpan<byte>(_buffer, _pos, (int)length);
        _pos += (int)length;
        return span;
    }

    private PickleBytes ReadBytes(long length, string what)
    {
        int start = _pos;
        ReadSpan(length, what);
        return new PickleBytes(new ArraySegment<byte>(_buffer, start, (int)length));
    }

    private string ReadLine(string what)
    {
        // GLOBAL's module and name are newline-terminated; a short bound keeps a corrupt stream from scanning far.
        const int MaxLine = 64;
        int limit = Math.Min(_end, _pos + MaxLine + 1);
        int nl = Array.IndexOf(_buffer, (byte)'\n', _pos, limit - _pos);
        if (nl < 0) throw Error($"{what} at offset {_pos} has no newline within {MaxLine} bytes (truncated or corrupt pickle).");
        string s = Encoding.Latin1.GetString(_buffer, _pos, nl - _pos);
        _pos = nl + 1;
        return s;
    }

    private object Run()
    {
        var stack = new List<object>();
        var marks = new List<int>();
        var memo = new Dictionary<uint, object>();
        for (int ops = 1; ; ops++)
        {
            int opPos = _pos;
            if (ops > MaxOpcodes)
                throw Error($"it runs more than {MaxOpcodes:N0} opcodes (at offset {opPos}); a CIFAR-10 batch needs about 30,000 (corrupt or hostile pickle).");
            byte op = ReadByte();
            switch (op)
            {
                case 0x80: // PROTO
                    byte proto = ReadByte();
                    if (proto is not (2 or 3)) throw Error($"pickle protocol {proto} at offset {opPos} is not supported (CIFAR-10 files use protocol 2).");
                    break;
                case (byte)'}': stack.Add(new PickleDict()); break; // EMPTY_DICT
                case (byte)']': stack.Add(new List<object>()); break; // EMPTY_LIST
                case (byte)'(': marks.Add(stack.Count); stack.Add(Mark.Value); break; // MARK
                case (byte)'N': stack.Add(PickleNone.Value); break; // NONE
                case 0x88: stack.Add(true); break; // NEWTRUE
                case 0x89: stack.Add(false); break; // NEWFALSE
                case (byte)'K': stack.Add((long)ReadByte()); break; // BININT1
                case (byte)'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadSpan(2, "BININT2"))); break;
                case (byte)'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(ReadSpan(4, "BININT"))); break;
                case (byte)'U': stack.Add(ReadBytes(ReadByte(), "SHORT_BINSTRING")); break;
                case (byte)'T': stack.Add(ReadBytes(BinaryPrimitives.ReadInt32LittleEndian(ReadSpan(4, "BINSTRING")), "BINSTRING")); break;
                case (byte)'B': stack.Add(ReadBytes(BinaryPrimitives.ReadUInt32LittleEndian(ReadSpan(4, "BINBYTES")), "BINBYTES")); break;
                case (byte)'q': memo[ReadByte()] = Top(stack, opPos, "BINPUT"); break;
                // Official batches hold 10,000 file names, so memo indices pass 255 and cPickle switches to LONG_BINPUT.
                case (byte)'r': memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadSpan(4, "LONG_BINPUT"))] = Top(stack, opPos, "LONG_BINPUT"); break;
                case (byte)'h': stack.Add(Get(memo, ReadByte(), opPos)); break; // BINGET
                case (byte)'j': stack.Add(Get(memo, BinaryPrimitives.ReadUInt32LittleEndian(ReadSpan(4, "LONG_BINGET")), opPos)); break;
                case (byte)'c': stack.Add(ResolveGlobal(ReadLine("GLOBAL module"), ReadLine("GLOBAL name"), opPos)); break;
                case (byte)'t': stack.Add(PopToMark(stack, marks, opPos, "TUPLE").ToArray()); break;
                case 0x85: stack.Add(new[] { Pop(stack, opPos, "TUPLE1") }); break;
                case 0x86: { var b = Pop(stack, opPos, "TUPLE2"); var a = Pop(stack, opPos, "TUPLE2"); stack.Add(new[] { a, b }); break; }
                case 0x87: { var c = Pop(stack, opPos, "TUPLE3"); var b = Pop(stack, opPos, "TUPLE3"); var a = Pop(stack, opPos, "TUPLE3"); stack.Add(new[] { a, b, c }); break; }
                case (byte)'e': // APPENDS
                {
                    var items = PopToMark(stack, marks, opPos, "APPENDS");
                    AsList(Top(stack, opPos, "APPENDS"), opPos, "APPENDS").AddRange(items);
                    break;
                }
                // cPickle writes a list or dict chunk of exactly one element with APPEND / SETITEM instead of the batched form.
                case (byte)'a':
                {
                    var item = Pop(stack, opPos, "APPEND");
                    AsList(Top(stack, opPos, "APPEND"), opPos, "APPEND").Add(item);
                    break;
                }
                case (byte)'u': // SETITEMS
                {
                    var items = PopToMark(stack, marks, opPos, "SETITEMS");
                    if (items.Count % 2 != 0) throw Error($"SETITEMS at offset {opPos} has an odd number ({items.Count}) of keys and values.");
                    var dict = AsDict(Top(stack, opPos, "SETITEMS"), opPos, "SETITEMS");
                    for (int i = 0; i < items.Count; i += 2) SetItem(dict, items[i], items[i + 1], opPos);
                    break;
                }
                case (byte)'s':
                {
                    var value = Pop(stack, opPos, "SETITEM");
                    var key = Pop(stack, opPos, "SETITEM");
                    SetItem(AsDict(Top(stack, opPos, "SETITEM"), opPos, "SETITEM"), key, value, opPos);
                    break;
                }
                case (byte)'R': // REDUCE
                {
                    var args = Pop(stack, opPos, "REDUCE");
                    var callable = Pop(stack, opPos, "REDUCE");
                    stack.Add(Reduce(callable, args, opPos));
                    break;
                }
                case (byte)'b': // BUILD
                {
                    var state = Pop(stack, opPos, "BUILD");
                    Build(Top(stack, opPos, "BUILD"), state, opPos);
                    break;
                }
                case (byte)'.': // STOP
                    if (marks.Count != 0 || stack.Count != 1)
                        throw Error($"STOP at offset {opPos} leaves {stack.Count} objects and {marks.Count} open marks; expected exactly one object.");
                    if (_pos != _end)
                        throw Error($"{_end - _pos} bytes follow STOP at offset {opPos}.");
                    return stack[0];
                default:
                    throw Error($"unknown or unsupported pickle opcode 0x{op:X2} at offset {opPos}.");
            }
        }
    }

    private object Top(List<object> stack, int opPos, string opName)
    {
        if (stack.Count == 0 || stack[^1] is Mark) throw Error($"{opName} at offset {opPos} finds an empty stack.");
        return stack[^1];
    }

    private object Pop(List<object> stack, int opPos, string opName)
    {
        var top = Top(stack, opPos, opName);
        stack.RemoveAt(stack.Count - 1);
        return top;
    }

    private object Get(Dictionary<uint, object> memo, uint index, int opPos) =>
        memo.TryGetValue(index, out var value) ? value : throw Error($"memo index {index} read at offset {opPos} was never stored.");

    private List<object> PopToMark(List<object> stack, List<int> marks, int opPos, string opName)
    {
        if (marks.Count == 0) throw Error($"{opName} at offset {opPos} has no matching MARK.");
        int mark = marks[^1];
        marks.RemoveAt(marks.Count - 1);
        var items = stack.GetRange(mark + 1, stack.Count - mark - 1);
        stack.RemoveRange(mark, stack.Count - mark);
        return items;
    }

    private List<object> AsList(object o, int opPos, string opName) =>
        o as List<object> ?? throw Error($"{opName} at offset {opPos} applies to a {TypeName(o)}, not a list.");

    private PickleDict AsDict(object o, int opPos, string opName) =>
        o as PickleDict ?? throw Error($"{opName} at offset {opPos} applies to a {TypeName(o)}, not a dict.");

    private void SetItem(PickleDict dict, object key, object value, int opPos)
    {
        if (key is not PickleBytes k) throw Error($"a dict key at offset {opPos} is a {TypeName(key)}; only string keys are accepted.");
        if (k.Bytes.Count > MaxKeyBytes)
            throw Error($"a dict key of {k.Bytes.Count:N0} bytes is set at offset {opPos}; CIFAR-10 dict keys are at most {MaxKeyBytes} bytes.");
        dict.Set(k.Text, value);
    }

    private PickleGlobal ResolveGlobal(string module, string name, int opPos) => (module, name) switch
    {
        ("numpy.core.multiarray", "_reconstruct") => PickleGlobal.Reconstruct,
        ("numpy", "ndarray") => PickleGlobal.NdArray,
        ("numpy", "dtype") => PickleGlobal.Dtype,
        _ => throw Error($"global '{module}.{name}' at offset {opPos} is forbidden; only numpy.core.multiarray._reconstruct, numpy.ndarray and numpy.dtype are accepted."),
    };

    private object Reduce(object callable, object args, int opPos)
    {
        if (args is not object[] a) throw Error($"REDUCE at offset {opPos} has {TypeName(args)} arguments, not a tuple.");
        switch (callable)
        {
            case PickleGlobal.Reconstruct:
                // numpy pickles an array as _reconstruct(ndarray, (0,), b'b') followed by BUILD with the real state.
                if (a.Length != 3 || a[0] is not PickleGlobal.NdArray || a[1] is not object[] || a[2] is not PickleBytes)
                    throw Error($"_reconstruct at offset {opPos} has arguments other than (numpy.ndarray, shape, typecode).");
                return new PickleNdArray();
            case PickleGlobal.Dtype:
                if (a.Length != 3 || a[0] is not PickleBytes name || a[1] is not long || a[2] is not long)
                    throw Error($"numpy.dtype at offset {opPos} has arguments other than (name, align, copy).");
                if (!name.Is("u1"u8))
                    throw Error($"numpy dtype {name.Quoted} at offset {opPos} is not supported; CIFAR-10 images are 'u1' (uint8).");
                return new PickleDtype();
            default:
                throw Error($"REDUCE at offset {opPos} calls a {TypeName(callable)}; only numpy's _reconstruct and dtype may be called.");
        }
    }

    private void Build(object target, object state, int opPos)
    {
        if (state is not object[] s) throw Error($"BUILD at offset {opPos} has a {TypeName(state)} state, not a tuple.");
        switch (target)
        {
            case PickleDtype dtype:
                // (version 3, byte order '|', subarray, names, fields, elsize -1, alignment -1, flags 0) for a plain uint8.
                if (dtype.Built || s.Length != 8 || s[0] is not 3L || s[1] is not PickleBytes order || !order.Is("|"u8))
                    throw Error($"the numpy dtype state at offset {opPos} is not that of a plain uint8 ('|u1').");
                dtype.Built = true;
                return;
            case PickleNdArray array:
                if (array.Shape is not null || s.Length != 5 || s[0] is not 1L || s[1] is not object[] shape
                    || s[2] is not PickleDtype { Built: true } || s[3] is not bool fortran || s[4] is not PickleBytes data)
                    throw Error($"the ndarray state at offset {opPos} is not (1, shape, uint8 dtype, fortran flag, raw bytes).");
                if (fortran) throw Error($"the ndarray at offset {opPos} is in Fortran order; CIFAR-10 arrays are C order.");
                var dims = new int[shape.Length];
                long count = 1;
                for (int i = 0; i < shape.Length; i++)
                {
                    if (shape[i] is not long d || d < 0 || d > int.MaxValue)
                        throw Error($"dimension {i} of the ndarray at offset {opPos} is not a non-negative int.");
                    dims[i] = (int)d;
                    count *= d;
                    if (count > int.MaxValue) throw Error($"the ndarray at offset {opPos} has too many elements.");
                }
                if (count != data.Bytes.Count)
                    throw Error($"the ndarray at offset {opPos} has shape ({string.Join(", ", dims)}) = {count} bytes but {data.Bytes.Count} bytes of data.");
                array.Shape = dims;
                array.Data = data.Bytes;
                return;
            default:
                throw Error($"BUILD at offset {opPos} applies to a {TypeName(target)}; only numpy arrays and dtypes are built.");
        }
    }

    internal static string TypeName(object o) => o switch
    {
        long => "int",
        bool => "bool",
        PickleNone => "None",
        PickleBytes => "str",
        List<object> => "list",
        PickleDict => "dict",
        object[] => "tuple",
        PickleGlobal g => $"global {g}",
        PickleNdArray => "ndarray",
        PickleDtype => "dtype",
        _ => o.GetType().Name,
    };
}
