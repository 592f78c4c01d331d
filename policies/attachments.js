// Refuses messages that carry programs a mail reader's user could run with a click: any MIME part whose file name
// ends in a Windows executable's extension (attachment or inline, the name decoded as the reader shows it), or whose
// content type says it is a program. Senders are told to share such files another way; the refusal is permanent.
//
//   main.cf:  smtpd_end_of_data_restrictions = check_policy_script /etc/edge/policies/attachments.js
//
// endOfData(message) is called once per message, after the data, with its headers and every MIME part's headers.

const EXECUTABLE_NAMES = /\.(exe|com|scr|pif|bat|cmd|vbs|vbe|js|jse|wsf|wsh|msi|msp|hta|cpl|jar|lnk|ps1|reg)$/i;
const EXECUTABLE_TYPES = new Set([
    "application/x-msdownload", "application/x-dosexec", "application/x-msdos-program",
    "application/vnd.microsoft.portable-executable",
]);

function endOfData(message) {
    for (const { filename, contentType } of message.parts) {
        const name = (filename ?? "").trim();
        if (EXECUTABLE_NAMES.test(name) || EXECUTABLE_TYPES.has(contentType)) {
            log(`executable attachment "${name}" (${contentType}) from ${message.client_address}, sender <${message.sender}>`);
            return `REJECT 5.7.1 Executable attachments are not accepted ("${name}"); please share the file another way`;
        }
    }
    return "DUNNO";
}
