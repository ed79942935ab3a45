// A real OpenFeature client against otap serve: the JavaScript server SDK
// with its OFREP provider (npm, from .cache/tools). Evaluates each flag
// named on the command line as KEY:TARGETING_KEY (a boolean) or
// s:KEY:TARGETING_KEY (a string) and prints
// {"KEY:TK": {value, reason, variant, errorCode}} as JSON.
const { OpenFeature } = require('@openfeature/server-sdk');
const { OFREPProvider } = require('@openfeature/ofrep-provider');
(async () => {
  const provider = new OFREPProvider({
    baseUrl: process.env.OFREP_URL,
    headers: { Authorization: `Bearer ${process.env.OFREP_TOKEN}` },
  });
  await OpenFeature.setProviderAndWait(provider);
  const client = OpenFeature.getClient();
  const out = {};
  for (const spec of process.argv.slice(2)) {
    const parts = spec.split(':');
    const string = parts[0] === 's';
    const [key, tk] = string ? parts.slice(1) : parts;
    const ctx = tk ? { targetingKey: tk, email: `${tk}@databiz.nl` } : {};
    const d = string ? await client.getStringDetails(key, 'none', ctx)
                     : await client.getBooleanDetails(key, false, ctx);
    out[spec] = { value: d.value, reason: d.reason, variant: d.variant, errorCode: d.errorCode };
  }
  console.log(JSON.stringify(out));
  await OpenFeature.close();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
