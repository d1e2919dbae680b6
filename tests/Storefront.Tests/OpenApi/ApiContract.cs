using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi.Reader;
using Microsoft.OpenApi.YamlReader;
using SharpYaml.Serialization;

namespace Storefront.Tests.OpenApi;

/// <summary>
/// The API's OpenAPI 3.1 document as the contract tests use it: parsed and validated by Microsoft.OpenApi, and kept
/// as raw JSON so that operations, responses and schemas are found by JSON pointer and evaluated as what they are,
/// JSON Schema 2020-12 (JsonSchema.Net), with their $refs resolved inside the document.
/// </summary>
public sealed partial class ApiContract
{
    public const string DocumentPath = "api/openapi.yaml";

    private static readonly Uri DocumentUri = new("https://storefront.test/openapi.json");

    // The same document with every object schema that lists properties and says nothing about others closed to
    // them: responses are checked against it, so the app cannot send a property the document does not declare,
    // while the published document leaves responses open to additions (as clients should expect).
    private static readonly Uri StrictDocumentUri = new("https://storefront.test/openapi.strict.json");

    private static readonly string[] OperationMethods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    private readonly BuildOptions _build = new() { SchemaRegistry = new SchemaRegistry() };
    private readonly Dictionary<string, JsonSchema> _schemas = new(StringComparer.Ordinal);

    private ApiContract(JsonObject root, ReadResult read)
    {
        Root = root;
        Read = read;
        BasePath = new Uri(root["servers"]![0]!["url"]!.GetValue<string>()).AbsolutePath.TrimEnd('/');
        _build.SchemaRegistry.Register(new JsonElementBaseDocument(JsonSerializer.SerializeToElement(root), DocumentUri));
        _build.SchemaRegistry.Register(new JsonElementBaseDocument(JsonSerializer.SerializeToElement(CloseObjects(root.DeepClone())), StrictDocumentUri));
    }

    /// <summary>The document as written (YAML turned into JSON).</summary>
    public JsonObject Root { get; }

    /// <summary>Microsoft.OpenApi's reading of the document, with its diagnostics (errors and warnings).</summary>
    public ReadResult Read { get; }

    /// <summary>The path of the first server's URL ("/api"): request paths are this plus a documented path.</summary>
    public string BasePath { get; }

    public static async Task<ApiContract> FetchAsync(HttpClient client) => Parse(await client.GetStringAsync(DocumentPath));

    public static ApiContract Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var root = YamlConverter.ToJsonNode(stream.Documents.Single()) as JsonObject
            ?? throw new InvalidOperationException("The OpenAPI document is not a YAML mapping.");
        var settings = new OpenApiReaderSettings();
        settings.AddYamlReader();
        var read = OpenApiYamlReader.Read(root.DeepClone(), new Uri("https://storefront.test/openapi.yaml"), settings);
        return new ApiContract(root, read);
    }

    /// <summary>Every operation of the document: path template, lower-case method, the operation object.</summary>
    public IEnumerable<(string Path, string Method, JsonObject Operation)> Operations() =>
        from path in (Root["paths"] as JsonObject ?? [])
        from method in OperationMethods
        where path.Value?[method] is JsonObject
        select (path.Key, method, (JsonObject)path.Value![method]!);

    /// <summary>Operations whose path template parameters and documented required path parameters differ.</summary>
    public IEnumerable<string> PathParameterMismatches() =>
        from o in Operations()
        let match = new OperationMatch(o.Path, $"/paths/{Escape(o.Path)}/{o.Method}", o.Operation, new Dictionary<string, string>())
        let inTemplate = TemplateParameter().Matches(o.Path).Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal)
        let documented = Parameters(match)
            .Where(p => p.Parameter["in"]?.GetValue<string>() == "path" && p.Parameter["required"]?.GetValue<bool>() == true)
            .Select(p => p.Parameter["name"]!.GetValue<string>())
            .Order(StringComparer.Ordinal)
        where !inTemplate.SequenceEqual(documented)
        select $"{o.Method.ToUpperInvariant()} {o.Path}: template [{string.Join(", ", inTemplate)}], required path parameters [{string.Join(", ", documented)}]";

    /// <summary>
    /// Asserts that a real exchange with the app is one the document describes: the operation and the status code are
    /// documented, the documented required headers are there with valid values, the content type is a documented one,
    /// and a JSON body validates against the declared schema, strictly (no undeclared properties). For a success it
    /// also asserts that the document allows the request: every parameter sent is documented and valid, and so is the
    /// body. Returns the parsed JSON body (null for none or a non-JSON body).
    /// </summary>
    public async Task<JsonNode?> AssertConformsAsync(HttpResponseMessage response, string? requestBody = null)
    {
        var request = response.RequestMessage ?? throw new InvalidOperationException("The response has no request.");
        var operation = FindOperation(request.Method, request.RequestUri!);
        var status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        var label = $"{request.Method} {operation.Path} -> {status}";

        var responses = operation.Node["responses"] as JsonObject ?? [];
        var key = new[] { status, $"{status[0]}XX", "default" }.FirstOrDefault(responses.ContainsKey);
        if (key is null)
        {
            Assert.Fail($"{label}: the document has no such response (it has {string.Join(", ", responses.Select(r => r.Key))}).");
        }

        var (documented, pointer) = Resolve(responses[key]!, $"{operation.Pointer}/responses/{Escape(key)}");
        AssertHeaders(label, response, documented, pointer);

        var body = await response.Content.ReadAsByteArrayAsync();
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var content = documented["content"] as JsonObject;
        if (body.Length == 0 && mediaType is null)
        {
            Assert.True(content is null || content.Count == 0, $"{label}: the document describes a body ({string.Join(", ", content?.Select(c => c.Key) ?? [])}), the response has none.");
            AssertRequestAllowed(label, response, operation, requestBody);
            return null;
        }

        Assert.True(
            mediaType is not null && content is not null && content.ContainsKey(mediaType),
            $"{label}: content type '{mediaType}' is not documented (documented: {string.Join(", ", content?.Select(c => c.Key) ?? [])}).");
        JsonNode? json = null;
        if (IsJson(mediaType))
        {
            json = JsonNode.Parse(body);
            AssertValid($"{pointer}/content/{Escape(mediaType)}/schema", json, strict: true, $"{label}: body {Shorten(Encoding.UTF8.GetString(body))}");
        }

        AssertRequestAllowed(label, response, operation, requestBody);
        return json;
    }

    /// <summary>Evaluation errors of a request body against the operation's documented schema (empty when valid).</summary>
    public IReadOnlyList<string> RequestBodyErrors(string operationId, string mediaType, string body)
    {
        var operation = OperationById(operationId);
        var (requestBody, pointer) = Resolve(operation.Node["requestBody"] ?? throw new InvalidOperationException($"{operationId} has no request body."), $"{operation.Pointer}/requestBody");
        Assert.True(requestBody["content"]?[mediaType] is not null, $"{operationId}: request content type '{mediaType}' is not documented.");
        return Errors(Evaluate($"{pointer}/content/{Escape(mediaType)}/schema", JsonNode.Parse(body), strict: false));
    }

    /// <summary>Evaluation errors of a parameter value (as sent, a string) against its documented schema.</summary>
    public IReadOnlyList<string> ParameterErrors(string operationId, string name, string value)
    {
        var operation = OperationById(operationId);
        var (parameter, pointer) = Parameters(operation).SingleOrDefault(p => p.Parameter["name"]?.GetValue<string>() == name);
        Assert.True(parameter is not null, $"{operationId} documents no parameter '{name}'.");
        return Errors(Evaluate($"{pointer}/schema", Typed(parameter, pointer, value), strict: false));
    }

    private void AssertHeaders(string label, HttpResponseMessage response, JsonObject documented, string pointer)
    {
        foreach (var (name, node) in documented["headers"] as JsonObject ?? [])
        {
            // OpenAPI ignores a Content-Type header definition (the content map says it).
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var (header, headerPointer) = Resolve(node!, $"{pointer}/headers/{Escape(name)}");
            if (!TryGetHeader(response, name, out var value))
            {
                Assert.False(header["required"]?.GetValue<bool>() == true, $"{label}: the required header {name} is missing.");
                continue;
            }

            AssertValid($"{headerPointer}/schema", Typed(header, headerPointer, value), strict: false, $"{label}: header {name}: {value}");
        }
    }

    /// <summary>What the API accepted, the document must allow: documented, valid parameters and body.</summary>
    private void AssertRequestAllowed(string label, HttpResponseMessage response, OperationMatch operation, string? requestBody)
    {
        if (!response.IsSuccessStatusCode)
        {
            return;
        }

        var request = response.RequestMessage!;
        var query = QueryHelpers.ParseQuery(request.RequestUri!.Query);
        var parameters = Parameters(operation).ToList();
        foreach (var name in query.Keys)
        {
            Assert.True(
                parameters.Any(p => p.Parameter["in"]?.GetValue<string>() == "query" && p.Parameter["name"]?.GetValue<string>() == name),
                $"{label}: the query parameter '{name}' was accepted but is not documented.");
        }

        foreach (var (parameter, pointer) in parameters)
        {
            var name = parameter["name"]!.GetValue<string>();
            string? value = parameter["in"]?.GetValue<string>() switch
            {
                "path" => operation.PathValues.GetValueOrDefault(name),
                "query" => query.TryGetValue(name, out var values) ? values.ToString() : null,
                "header" => request.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : null,
                _ => null,
            };
            if (value is null)
            {
                Assert.False(parameter["required"]?.GetValue<bool>() == true, $"{label}: the required parameter '{name}' was not sent, yet the API accepted the request.");
                continue;
            }

            AssertValid($"{pointer}/schema", Typed(parameter, pointer, value), strict: false, $"{label}: the API accepted {name}={value}, the document does not");
        }

        if (operation.Node["requestBody"] is { } node)
        {
            var (documented, pointer) = Resolve(node, $"{operation.Pointer}/requestBody");
            if (requestBody is null)
            {
                Assert.False(documented["required"]?.GetValue<bool>() == true, $"{label}: the document requires a body, the API accepted none.");
                return;
            }

            var mediaType = request.Content?.Headers.ContentType?.MediaType;
            Assert.True(mediaType is not null && documented["content"]?[mediaType] is not null, $"{label}: request content type '{mediaType}' is not documented.");
            if (IsJson(mediaType))
            {
                AssertValid($"{pointer}/content/{Escape(mediaType)}/schema", JsonNode.Parse(requestBody), strict: false, $"{label}: the API accepted the body {Shorten(requestBody)}, the document does not");
            }
        }
    }

    private OperationMatch FindOperation(HttpMethod method, Uri uri)
    {
        var path = uri.AbsolutePath;
        Assert.True(path.StartsWith(BasePath + "/", StringComparison.Ordinal), $"{path} is not under the server URL's path {BasePath}.");
        path = path[BasePath.Length..];

        // A literal path wins over a template that also matches (as in OpenAPI and in ASP.NET Core routing).
        var candidates = (Root["paths"] as JsonObject ?? [])
            .Select(p => (Template: p.Key, Item: p.Value as JsonObject, Values: MatchTemplate(p.Key, path)))
            .Where(c => c.Values is not null && c.Item is not null)
            .OrderBy(c => c.Values!.Count)
            .ToList();
        Assert.True(candidates.Count > 0, $"{method} {path}: no documented path matches.");
        var methodName = method.Method.ToLowerInvariant();
        foreach (var (template, item, values) in candidates)
        {
            if (item![methodName] is JsonObject operation)
            {
                return new OperationMatch(template, $"/paths/{Escape(template)}/{methodName}", operation, values!);
            }
        }

        Assert.Fail($"{method} {path}: {candidates[0].Template} has no {method} operation in the document.");
        throw new InvalidOperationException("unreachable");
    }

    private OperationMatch OperationById(string operationId)
    {
        var (path, method, operation) = Operations().Single(o => o.Operation["operationId"]?.GetValue<string>() == operationId);
        return new OperationMatch(path, $"/paths/{Escape(path)}/{method}", operation, new Dictionary<string, string>());
    }

    /// <summary>The operation's parameters and the path item's (the operation's win), $refs resolved.</summary>
    private IEnumerable<(JsonObject Parameter, string Pointer)> Parameters(OperationMatch operation)
    {
        var pathPointer = operation.Pointer[..operation.Pointer.LastIndexOf('/')];
        var own = (operation.Node["parameters"] as JsonArray ?? []).Select((p, i) => Resolve(p!, $"{operation.Pointer}/parameters/{i}")).ToList();
        var inherited = (Root["paths"]![operation.Path]!["parameters"] as JsonArray ?? []).Select((p, i) => Resolve(p!, $"{pathPointer}/parameters/{i}"));
        return own.Concat(inherited.Where(p => !own.Any(o => SameParameter(o.Node, p.Node))))
            .Select(p => (p.Node, p.Pointer));
    }

    private static bool SameParameter(JsonObject a, JsonObject b) =>
        a["name"]?.GetValue<string>() == b["name"]?.GetValue<string>() && a["in"]?.GetValue<string>() == b["in"]?.GetValue<string>();

    /// <summary>Follows local $refs; returns the object and its JSON pointer in the document.</summary>
    private (JsonObject Node, string Pointer) Resolve(JsonNode node, string pointer)
    {
        for (var hops = 0; node is JsonObject { } item && item["$ref"]?.GetValue<string>() is { } reference; hops++)
        {
            Assert.True(hops < 16 && reference.StartsWith("#/", StringComparison.Ordinal), $"Cannot resolve $ref '{reference}' at {pointer}.");
            pointer = reference[1..];
            node = pointer.Split('/').Skip(1).Select(Unescape).Aggregate<string, JsonNode?>(Root, (current, segment) => current?[segment])
                ?? throw new InvalidOperationException($"$ref '{reference}' points at nothing.");
        }

        return (node as JsonObject ?? throw new InvalidOperationException($"{pointer} is not an object."), pointer);
    }

    /// <summary>A parameter or header value (always text on the wire) as the JSON value its schema describes.</summary>
    private JsonNode? Typed(JsonObject parameterOrHeader, string pointer, string value)
    {
        var (schema, _) = Resolve(parameterOrHeader["schema"] ?? new JsonObject(), $"{pointer}/schema");
        var types = schema["type"] switch
        {
            JsonArray array => array.Select(t => t?.GetValue<string>()).ToArray(),
            JsonValue single => [single.GetValue<string>()],
            _ => [],
        };
        return types.Contains("integer") && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer) ? JsonValue.Create(integer)
            : types.Contains("number") && decimal.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? JsonValue.Create(number)
            : types.Contains("boolean") && bool.TryParse(value, out var boolean) ? JsonValue.Create(boolean)
            : JsonValue.Create(value);
    }

    private void AssertValid(string pointer, JsonNode? instance, bool strict, string what)
    {
        var errors = Errors(Evaluate(pointer, instance, strict));
        Assert.True(errors.Count == 0, $"{what}\ndoes not validate against {pointer}:\n  {string.Join("\n  ", errors)}");
    }

    private EvaluationResults Evaluate(string pointer, JsonNode? instance, bool strict)
    {
        // (Uri equality ignores the fragment, so the cache is keyed by the text.)
        var uri = $"{(strict ? StrictDocumentUri : DocumentUri)}#{string.Join('/', pointer.Split('/').Select(Uri.EscapeDataString))}";
        if (!_schemas.TryGetValue(uri, out var schema))
        {
            schema = JsonSchema.FromText(new JsonObject { ["$ref"] = uri }.ToJsonString(), _build);
            _schemas[uri] = schema;
        }

        return schema.Evaluate(JsonSerializer.SerializeToElement(instance), new EvaluationOptions { OutputFormat = OutputFormat.Hierarchical });
    }

    /// <summary>The errors along the failing branches only (a passing anyOf branch's siblings are not errors).</summary>
    private static List<string> Errors(EvaluationResults results)
    {
        var errors = new List<string>();
        Collect(results);
        return errors;

        void Collect(EvaluationResults node)
        {
            if (node.IsValid)
            {
                return;
            }

            errors.AddRange((node.Errors ?? []).Select(e => $"at '{node.InstanceLocation}' ({node.EvaluationPath}): {e.Value}"));
            foreach (var child in node.Details ?? [])
            {
                Collect(child);
            }
        }
    }

    private static bool TryGetHeader(HttpResponseMessage response, string name, out string value)
    {
        var found = response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values);
        value = found ? string.Join(", ", values!) : string.Empty;
        return found;
    }

    private static string Shorten(string text) => text.Length <= 2000 ? text : text[..2000] + "...";

    private static bool IsJson(string mediaType) =>
        mediaType == "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal);

    /// <summary>Closes every object schema that lists properties and allows any others (see StrictDocumentUri).</summary>
    private static JsonNode CloseObjects(JsonNode node)
    {
        if (node is JsonObject item)
        {
            if (item["properties"] is JsonObject && !item.ContainsKey("additionalProperties") && !item.ContainsKey("unevaluatedProperties"))
            {
                item["additionalProperties"] = false;
            }

            foreach (var child in item.Select(p => p.Value).ToList())
            {
                if (child is not null)
                {
                    CloseObjects(child);
                }
            }
        }
        else if (node is JsonArray array)
        {
            foreach (var child in array)
            {
                if (child is not null)
                {
                    CloseObjects(child);
                }
            }
        }

        return node;
    }

    /// <summary>Matches a request path (below the base path) against a path template; returns the parameter values.</summary>
    private static Dictionary<string, string>? MatchTemplate(string template, string path)
    {
        var names = new List<string>();
        var pattern = new StringBuilder("^");
        var position = 0;
        foreach (Match parameter in TemplateParameter().Matches(template))
        {
            pattern.Append(Regex.Escape(template[position..parameter.Index])).Append("([^/]+)");
            names.Add(parameter.Groups[1].Value);
            position = parameter.Index + parameter.Length;
        }

        pattern.Append(Regex.Escape(template[position..])).Append('$');
        var match = Regex.Match(path, pattern.ToString(), RegexOptions.CultureInvariant);
        return match.Success
            ? names.Select((name, i) => (name, Uri.UnescapeDataString(match.Groups[i + 1].Value))).ToDictionary(p => p.name, p => p.Item2, StringComparer.Ordinal)
            : null;
    }

    /// <summary>A JSON pointer segment (RFC 6901).</summary>
    private static string Escape(string segment) => segment.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static string Unescape(string segment) => segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);

    [GeneratedRegex(@"\{([^{}/]+)\}")]
    private static partial Regex TemplateParameter();

    private sealed record OperationMatch(string Path, string Pointer, JsonObject Node, IReadOnlyDictionary<string, string> PathValues);
}
