// Codec oracle: decodes a file of framed SignalR hub messages with Microsoft's own hub protocol
// implementation (JsonHubProtocol / MessagePackHubProtocol) and writes every message back with
// the same implementation. The Heliograph test compares the result with its own codec.
//
// usage: CodecOracle <json|messagepack> <input file> <output file>
// Argument binding: every parameter, result and stream item is bound as `object`; the number of
// parameters of a target is the number after its last '_' (e.g. "Notify_3" takes 3).
using System.Buffers;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: CodecOracle <json|messagepack> <input> <output>");
    return 2;
}

IHubProtocol protocol = args[0] switch
{
    "json" => new JsonHubProtocol(),
    "messagepack" => new MessagePackHubProtocol(),
    _ => throw new ArgumentException($"unknown protocol {args[0]}"),
};

var input = new ReadOnlySequence<byte>(File.ReadAllBytes(args[1]));
var output = new ArrayBufferWriter<byte>();
var binder = new ObjectBinder();
int count = 0;
while (!input.IsEmpty)
{
    if (!protocol.TryParseMessage(ref input, binder, out var message) || message is null)
    {
        Console.Error.WriteLine($"message {count}: incomplete or unparsable frame");
        return 1;
    }
    if (message is InvocationBindingFailureMessage failure)
    {
        Console.Error.WriteLine($"message {count}: binding failed: {failure.BindingFailure.SourceException.Message}");
        return 1;
    }
    if (message is StreamBindingFailureMessage streamFailure)
    {
        Console.Error.WriteLine($"message {count}: stream binding failed: {streamFailure.BindingFailure.SourceException.Message}");
        return 1;
    }
    protocol.WriteMessage(message, output);
    count++;
}
File.WriteAllBytes(args[2], output.WrittenSpan.ToArray());
Console.WriteLine($"{count} messages");
return 0;

sealed class ObjectBinder : IInvocationBinder
{
    public IReadOnlyList<Type> GetParameterTypes(string methodName)
    {
        var underscore = methodName.LastIndexOf('_');
        var n = underscore >= 0 && int.TryParse(methodName.AsSpan(underscore + 1), out var parsed) ? parsed : 0;
        return Enumerable.Repeat(typeof(object), n).ToArray();
    }

    public Type GetReturnType(string invocationId) => typeof(object);

    public Type GetStreamItemType(string streamId) => typeof(object);
}
