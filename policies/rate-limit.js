// At most LIMIT recipients per client address and minute: beyond it the client is told to slow down (a
// temporary error, so legitimate mail is only delayed). Clients in mynetworks are usually exempted by
// putting permit_mynetworks before the script.
//
//   main.cf:  smtpd_client_restrictions = permit_mynetworks,
//                 check_policy_script /etc/edge/policies/rate-limit.js
//
// The counters are Edge's policy store: each lives one WINDOW_SECONDS from the client's first recipient in it,
// and counts atomically, even between Edge servers sharing a redis: store.

const LIMIT = 100;
const WINDOW_SECONDS = 60;

async function policy(request) {
    const count = await store.increment("rate/" + request.client_address, WINDOW_SECONDS);
    if (count > LIMIT) {
        if (count === LIMIT + 1) {
            log("client " + request.client_address + " passed " + LIMIT + " recipients in " + WINDOW_SECONDS + " seconds");
        }
        return "450 4.7.1 Too many recipients from " + request.client_address + "; slow down";
    }
    return "DUNNO";
}
