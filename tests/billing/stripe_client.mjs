// Stripe's own Node client (`stripe` from npm) reading the fake: the payment intents Hangar
// made, one JSON line each. That the official client reads them is the check that the fake,
// and so what Hangar was tested against, speaks Stripe's API.
//
//   node stripe_client.mjs <api-base-url> <secret-key>
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const Stripe = require('stripe');
const [base, key] = process.argv.slice(2);
const url = new URL(base);
const stripe = new Stripe(key, { host: url.hostname, port: url.port, protocol: url.protocol.replace(':', '') });

const list = await stripe.paymentIntents.list({ limit: 100 });
for (const pi of list.data) {
  const customer = pi.customer ? await stripe.customers.retrieve(pi.customer) : null;
  console.log(JSON.stringify({
    id: pi.id,
    amount: pi.amount,
    currency: pi.currency,
    status: pi.status,
    invoice: pi.metadata.invoice,
    tenant: pi.metadata.tenant,
    email: customer && customer.email,
  }));
}
console.log('ok');
