using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Storefront.Infrastructure.Tests;

/// <summary>
/// The members of Azure Storage SDK types an assembly calls, read from its IL: every call, callvirt, newobj and
/// ldftn whose target is declared in an Azure.Storage namespace, lambdas and async state machines included.
/// </summary>
public static class StorageCalls
{
    private static readonly Dictionary<short, OperandType> OperandTypes = typeof(OpCodes)
        .GetFields()
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value, o => o.OperandType);

    /// <summary>"Namespace.Type.Member" of every Azure.Storage member the assembly at this path uses.</summary>
    public static SortedSet<string> In(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var used = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var handle in metadata.MethodDefinitions)
        {
            var method = metadata.GetMethodDefinition(handle);
            if (method.RelativeVirtualAddress == 0)
            {
                continue;
            }

            var il = pe.GetMethodBody(method.RelativeVirtualAddress).GetILReader();
            while (il.RemainingBytes > 0)
            {
                var value = (short)il.ReadByte();
                if (value == 0xFE)
                {
                    value = (short)(0xFE00 | il.ReadByte());
                }

                var operand = OperandTypes[value];
                if (operand == OperandType.InlineMethod)
                {
                    if (Target(metadata, MetadataTokens.EntityHandle(il.ReadInt32())) is { } target && target.StartsWith("Azure.Storage.", StringComparison.Ordinal))
                    {
                        used.Add(target);
                    }

                    continue;
                }

                Skip(ref il, operand);
            }
        }

        return used;
    }

    private static void Skip(ref BlobReader il, OperandType operand)
    {
        switch (operand)
        {
            case OperandType.InlineNone:
                break;
            case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                il.Offset += 1;
                break;
            case OperandType.InlineVar:
                il.Offset += 2;
                break;
            case OperandType.InlineI8 or OperandType.InlineR:
                il.Offset += 8;
                break;
            case OperandType.InlineSwitch:
                var targets = il.ReadInt32();
                il.Offset += 4 * targets;
                break;
            default:
                il.Offset += 4;
                break;
        }
    }

    private static string? Target(MetadataReader metadata, EntityHandle handle) => handle.Kind switch
    {
        HandleKind.MemberReference => Member(metadata, metadata.GetMemberReference((MemberReferenceHandle)handle)),
        HandleKind.MethodSpecification => Target(metadata, metadata.GetMethodSpecification((MethodSpecificationHandle)handle).Method),
        _ => null, // a method of the assembly itself
    };

    private static string? Member(MetadataReader metadata, MemberReference member) =>
        TypeName(metadata, member.Parent) is { } type ? $"{type}.{metadata.GetString(member.Name)}" : null;

    private static string? TypeName(MetadataReader metadata, EntityHandle handle)
    {
        switch (handle.Kind)
        {
            case HandleKind.TypeReference:
                var reference = metadata.GetTypeReference((TypeReferenceHandle)handle);
                var name = metadata.GetString(reference.Name);
                return reference.ResolutionScope.Kind == HandleKind.TypeReference
                    ? $"{TypeName(metadata, (EntityHandle)reference.ResolutionScope)}+{name}"
                    : $"{metadata.GetString(reference.Namespace)}.{name}";
            case HandleKind.TypeSpecification:
                // A generic instantiation: the name of its generic type.
                var signature = metadata.GetBlobReader(metadata.GetTypeSpecification((TypeSpecificationHandle)handle).Signature);
                if (signature.ReadSignatureTypeCode() != SignatureTypeCode.GenericTypeInstance)
                {
                    return null;
                }

                signature.ReadSignatureTypeCode(); // class or valuetype
                return TypeName(metadata, signature.ReadTypeHandle());
            default:
                return null;
        }
    }
}
