using Edge.Mail;

namespace Edge.Cleanup;

/// <summary>What rewrites a message's own headers as <see cref="ContentInspector"/> passes them on.</summary>
internal interface IHeaderRewriter
{
    /// <summary>A header of the message's own, before message_drop_headers decides about it.</summary>
    void Observe(ReadOnlySpan<byte> name);

    /// <summary>The header rewritten, CRLF-terminated; null when it stays as it is.</summary>
    byte[]? Rewrite(ReadOnlySpan<byte> name, ReadOnlySpan<byte> header);

    /// <summary>
    /// What <see cref="Rewrite"/> would ask of tables, asked without changing anything (under
    /// <see cref="Tables.TableAnswers.Enter"/>, a lookup not answered yet throws); nothing to ask by default.
    /// </summary>
    void Ask(ReadOnlySpan<byte> name, ReadOnlySpan<byte> header)
    {
    }

    /// <summary>At the end of the message's headers: what is to be added there.</summary>
    void WriteMissing(IContentSink output);
}
