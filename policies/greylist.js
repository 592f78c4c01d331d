// Greylisting: the first attempt of each (client network, sender, recipient) triplet is deferred; a real
// mail server retries after a few minutes and is let through, most spamware never comes back. Triplets seen
// to pass are remembered for a month, so regular correspondents are not delayed again.
//
//   main.cf:  smtpd_recipient_restrictions = reject_unauth_destination,
//                 check_policy_script /etc/edge/policies/greylist.js
//
// The memory is Edge's policy store (edge_policy_store): by default a FasterKV under queue_directory, so a
// restart forgets nothing; with redis:HOST:PORT every Edge behind a load balancer shares it, and a sender is
// greylisted once between them. Its methods return promises, awaited below.

// How long a new triplet must wait before a retry is accepted.
const DELAY_SECONDS = 300;
// How long a triplet that got through, or is still waiting, is remembered.
const PASSED_SECONDS = 35 * 24 * 3600;
const WAITING_SECONDS = 24 * 3600;
// How often a passing triplet's lifetime is renewed.
const REFRESH_SECONDS = 24 * 3600;

// Clients of one /24 (IPv4) or one /64 (IPv6) often retry from different addresses.
function network(address) {
    if (address.indexOf(":") >= 0) {
        return address.split(":").slice(0, 4).join(":");
    }
    return address.split(".").slice(0, 3).join(".");
}

async function policy(request) {
    const triplet = "greylist/" + network(request.client_address) + "/" + request.sender.toLowerCase() +
        "/" + request.recipient.toLowerCase();
    const now = Date.now();
    // A triplet that got through is remembered under its own key, written again only once a day: the common case,
    // a known correspondent, is one read and no write.
    const passed = await store.get(triplet + "/passed");
    if (passed !== null) {
        if (now - Number(passed) > REFRESH_SECONDS * 1000) {
            await store.set(triplet + "/passed", now, PASSED_SECONDS);
        }
        return "DUNNO";
    }
    const first = await store.get(triplet);
    if (first === null) {
        await store.set(triplet, now, WAITING_SECONDS);
        return "450 4.2.0 Greylisted: please try again in " + DELAY_SECONDS + " seconds";
    }
    if (now - Number(first) < DELAY_SECONDS * 1000) {
        return "450 4.2.0 Greylisted: please try again later";
    }
    await store.set(triplet + "/passed", now, PASSED_SECONDS);
    return "DUNNO";
}
