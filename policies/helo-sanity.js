// HELO names that only spamware sends: a bare IP address without the brackets RFC 5321 asks for, or the
// name of this very server (a client pretending to be us).
//
//   main.cf:  smtpd_helo_restrictions = check_policy_script /etc/edge/policies/helo-sanity.js
//
// A policy gets the attributes of Postfix's policy delegation protocol (request.helo_name,
// request.client_address, request.sender …) and returns an access(5) action: "DUNNO" (or nothing) to let
// the next restriction decide, "OK", "REJECT text", "DEFER text", "450 4.7.1 text", or restriction names.

// The names this server answers to; mail from a client claiming one of them is forged.
const OUR_NAMES = ["mx.example.com", "example.com"];

function policy(request) {
    const helo = request.helo_name.toLowerCase();
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(helo)) {
        return "REJECT 5.5.2 Use [" + helo + "]: an address literal needs its brackets";
    }
    if (OUR_NAMES.indexOf(helo) >= 0) {
        log("client " + request.client_address + " claimed to be " + helo);
        return "REJECT 5.7.1 You are not me";
    }
    return "DUNNO";
}
