namespace Edge.Delivery.Smtp;

internal enum RecipientStatus : byte
{
    Sent,
    Deferred,
    Bounced,
}
