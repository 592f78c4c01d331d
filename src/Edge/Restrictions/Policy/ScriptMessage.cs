using Jint;
using Jint.Native;

namespace Edge.Restrictions.Policy;

/// <summary>
/// The argument of <c>endOfData(message)</c>: the request's attributes (SMTPD_POLICY_README, protocol_state
/// END-OF-MESSAGE) and the message — <c>recipients</c> (the envelope's), <c>size</c> (a number), <c>headers</c> (each
/// <c>{name, value, decoded}</c>, in order), <c>parts</c> (each MIME part below the top: <c>{contentType, disposition,
/// filename, headers}</c>) and <c>body</c> (its first edge_policy_body_limit bytes, as text).
/// </summary>
internal static class ScriptMessage
{
    public static JsObject Create(Engine engine, PolicyRequest request, MessageView view)
    {
        var message = new JsObject(engine);
        request.Fill(message);
        message.Set("recipients", new JsArray(engine, [.. view.Recipients.Select(r => (JsValue)r)]));
        message.Set("size", view.Size);
        message.Set("headers", Headers(engine, view.Headers));
        message.Set("parts", new JsArray(engine, [.. view.Parts.Select(part =>
        {
            var value = new JsObject(engine);
            value.Set("contentType", part.ContentType);
            value.Set("disposition", part.Disposition is null ? JsValue.Null : part.Disposition);
            value.Set("filename", part.FileName is null ? JsValue.Null : part.FileName);
            value.Set("headers", Headers(engine, part.Headers));
            return (JsValue)value;
        })]));
        message.Set("body", view.Body);
        return message;
    }

    private static JsArray Headers(Engine engine, IReadOnlyList<HeaderView> headers) => new(engine, [.. headers.Select(header =>
    {
        var value = new JsObject(engine);
        value.Set("name", header.Name);
        value.Set("value", header.Value);
        value.Set("decoded", header.Decoded);
        return (JsValue)value;
    })]);
}
