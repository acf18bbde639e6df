// A phone wallet played by @openid4vc/openid4vci (OpenWallet Foundation), independent of BadgeHub: it runs
// the whole pre-authorized code flow against a running BadgeHub and prints what it received.
// stdin: {"offer": "openid-credential-offer://...", "txCode": "123456" or null, "configurations": ["..."]}
// (the offer by value, or by reference: credential_offer_uri, which the client fetches)
// stdout: {"holderDid": "did:key:...", "credentials": {"<configuration id>": <credential>}, "offered": [...]}
import {createHash, randomBytes} from 'node:crypto';

import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {clientAuthenticationAnonymous, setGlobalConfig} from '@openid4vc/oauth2';
import {Openid4vciClient} from '@openid4vc/openid4vci';
import * as jose from 'jose';

// The server under test listens on http://127.0.0.1 only; a real wallet insists on https.
setGlobalConfig({allowInsecureUrls: true});

let input = '';
for await (const chunk of process.stdin) {
  input += chunk;
}
const {offer, txCode, configurations} = JSON.parse(input);

const holder = await Ed25519Multikey.generate();
const holderDid = `did:key:${holder.publicKeyMultibase}`;
const didUrl = `${holderDid}#${holder.publicKeyMultibase}`;
const privateJwk = await Ed25519Multikey.toJwk({keyPair: holder, secretKey: true});
// The multikey secret is seed + public key (64 bytes); a JWK's d is the 32-byte seed.
const seed = Buffer.from(privateJwk.d, 'base64url').subarray(0, 32).toString('base64url');
const privateKey = await jose.importJWK({...privateJwk, d: seed, alg: 'EdDSA'}, 'EdDSA');

const client = new Openid4vciClient({
  callbacks: {
    fetch,
    hash: (data, alg) => new Uint8Array(createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
    generateRandom: bytes => new Uint8Array(randomBytes(bytes)),
    clientAuthentication: clientAuthenticationAnonymous(),
    signJwt: async (signer, {header, payload}) => {
      const jwt = await new jose.SignJWT(payload).setProtectedHeader(header).sign(privateKey);
      return {jwt, signerJwk: {kty: 'OKP', crv: 'Ed25519', x: privateJwk.x}};
    }
  }
});

const credentialOffer = await client.resolveCredentialOffer(offer);
const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
const {accessTokenResponse} = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
  credentialOffer, issuerMetadata, txCode: txCode ?? undefined
});
const credentials = {};
for(const credentialConfigurationId of configurations) {
  const {c_nonce: nonce} = await client.requestNonce({issuerMetadata});
  const {jwt} = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId, nonce,
    signer: {method: 'did', didUrl, alg: 'EdDSA'}
  });
  const response = await client.retrieveCredentials({
    issuerMetadata, credentialConfigurationId, accessToken: accessTokenResponse.access_token,
    proofs: {jwt: [jwt]}
  });
  if(!response.credentialResponse.credentials) {
    throw new Error(`no credentials in ${JSON.stringify(response.credentialResponse)}`);
  }
  credentials[credentialConfigurationId] = response.credentialResponse.credentials[0].credential;
}
process.stdout.write(JSON.stringify({
  holderDid, credentials, offered: credentialOffer.credential_configuration_ids,
  version: issuerMetadata.originalDraftVersion
}));
