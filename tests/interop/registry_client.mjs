// Loads BadgeHub's known-issuer registry with the DCC client (@digitalcredentials/issuer-registry-client),
// the way VerifierPlus and the Learner Credential Wallet do, and looks DIDs up in it.
// stdin: {"url": "...", "dids": ["did:..."]}; stdout: {"loaded": [...], "entries": {did: entry|null}}.
import {RegistryClient} from '@digitalcredentials/issuer-registry-client';

let input = '';
for await (const chunk of process.stdin) {
  input += chunk;
}
const {url, dids} = JSON.parse(input);
const client = new RegistryClient();
const loaded = await client.load({config: [{name: 'BadgeHub territory', url}]});
const entries = {};
for(const did of dids) {
  const entry = client.didEntry(did);
  entries[did] = entry === undefined ? null :
    {name: entry.name, url: entry.url, location: entry.location ?? null,
      inRegistries: [...entry.inRegistries].map(registry => registry.name)};
}
process.stdout.write(JSON.stringify({loaded: loaded.map(({name, loaded}) => ({name, loaded})), entries}));
