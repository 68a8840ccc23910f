// An independent JOSE peer for the tests: panva's `jose` for Node.js (npm), not Nimbus, not our code.
// Reads one JSON request on stdin, writes one JSON answer on stdout. Keys are base64url; payload and AAD base64url.
//   {"op":"generalEncrypt","plaintext":…,"aad":…,"enc":"A256GCM","protected":{…},"recipients":[{"alg":"A128KW","kid":…,"key":…}]}
//   {"op":"generalDecrypt","jwe":{…},"keys":{"<kid>":"<key>"}}          → {"plaintext":…,"aad":…,"protectedHeader":…}
//   {"op":"compactDecrypt","jwe":"…","key":"…"}                        → {"plaintext":…,"protectedHeader":…}
// A refusal is {"error":"<jose error code>","message":…} with exit code 0 (the test asserts on it).
import * as jose from 'jose';

const b64u = (s) => jose.base64url.decode(s);
const enc64 = (b) => jose.base64url.encode(b);

async function main(req) {
  switch (req.op) {
    case 'generalEncrypt': {
      const e = new jose.GeneralEncrypt(b64u(req.plaintext)).setProtectedHeader(req.protected ?? { enc: req.enc });
      if (req.aad !== undefined) e.setAdditionalAuthenticatedData(b64u(req.aad));
      for (const r of req.recipients) {
        e.addRecipient(b64u(r.key)).setUnprotectedHeader({ alg: r.alg, kid: r.kid });
      }
      return { jwe: await e.encrypt() };
    }
    case 'generalDecrypt': {
      // jose hands the resolver the protected header and the flattened JWE of the recipient being tried
      const getKey = (protectedHeader, token) => {
        const kid = protectedHeader?.kid ?? token?.header?.kid ?? token?.unprotected?.kid;
        const k = req.keys[kid];
        if (k === undefined) throw new Error('not my recipient');
        return b64u(k);
      };
      const out = await jose.generalDecrypt(req.jwe, getKey);
      return {
        plaintext: enc64(out.plaintext),
        aad: out.additionalAuthenticatedData === undefined ? null : enc64(out.additionalAuthenticatedData),
        protectedHeader: out.protectedHeader,
        unprotectedHeader: out.unprotectedHeader ?? null,
      };
    }
    case 'compactDecrypt': {
      const out = await jose.compactDecrypt(req.jwe, b64u(req.key));
      return { plaintext: enc64(out.plaintext), protectedHeader: out.protectedHeader };
    }
    default:
      throw new Error('unknown op ' + req.op);
  }
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => (input += c));
process.stdin.on('end', async () => {
  try {
    process.stdout.write(JSON.stringify(await main(JSON.parse(input))));
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: err.code ?? 'ERR', message: String(err.message) }));
  }
});
