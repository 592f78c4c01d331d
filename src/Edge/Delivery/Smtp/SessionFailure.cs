namespace Edge.Delivery.Smtp;

/// <summary>
/// Why a server could not take the session before MAIL FROM: the outcome every recipient gets if no later
/// server does better. <see cref="RetryPlaintext"/>: opportunistic TLS failed its handshake, so the same server
/// is worth one more try without TLS (Postfix's plaintext fallback).
/// </summary>
internal sealed record SessionFailure(RecipientStatus Status, string Dsn, string Reason, string Relay, bool RetryPlaintext = false);
