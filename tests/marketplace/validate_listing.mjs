// node validate_listing.mjs LISTINGS.json INFO.json [featured=F] [bundle=F] [requests=F]
// [screenshots=F]: validates a marketplace answer with the schema a stock Rocket.Chat server
// applies (apps/meteor/ee/server/apps/marketplace/fetchMarketplaceApps.ts, zod v3, transcribed
// field by field), the install's info answer (an array of exactly one), and optionally the
// featured sections, a bundle's apps, a page of app requests and the screenshots in the shapes
// core-typings gives them (FeaturedAppsSection, App, PaginatedAppRequests, AppScreenshot).
// Exits 1 naming every mismatch, so a type drift fails the C++ test that runs it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { z } = require('zod');

const detail = z.object({ raw: z.string().optional(), rendered: z.string().optional() });
const latest = z.object({
  internalId: z.string(),
  id: z.string(),
  name: z.string(),
  nameSlug: z.string(),
  version: z.string(),
  categories: z.array(z.string()),
  languages: z.array(z.string()).optional(),
  shortDescription: z.string().optional(),
  description: z.string(),
  privacyPolicySummary: z.string().optional(),
  documentationUrl: z.string().optional(),
  detailedDescription: detail,
  detailedChangelog: detail,
  requiredApiVersion: z.string(),
  versionIncompatible: z.boolean().optional(),
  permissions: z.array(z.object({ name: z.string(), domains: z.array(z.string()).optional(), scopes: z.array(z.string()).optional() })).optional(),
  addon: z.string().optional(),
  author: z.object({ name: z.string(), support: z.string(), homepage: z.string() }),
  classFile: z.string(),
  iconFile: z.string(),
  iconFileData: z.string(),
  status: z.enum(['submitted', 'author-rejected', 'author-approved', 'rejected', 'approved', 'published']),
  reviewedNote: z.string().optional(),
  rejectionNote: z.string().optional(),
  changesNote: z.string().optional(),
  internalChangesNote: z.string().optional(),
  isVisible: z.boolean(),
  createdDate: z.string(),
  modifiedDate: z.string(),
});
const listing = z.object({
  appId: z.string(),
  latest,
  isAddon: z.boolean(),
  addonId: z.string().optional(),
  isEnterpriseOnly: z.boolean(),
  isBundle: z.boolean(),
  bundledAppsIn: z.array(z.string()).optional(),
  bundledIn: z.array(z.object({ bundleId: z.string(), bundleName: z.string(), addonTierId: z.string().optional() })),
  isPurchased: z.boolean(),
  isSubscribed: z.boolean(),
  price: z.number(),
  purchaseType: z.enum(['', 'buy', 'subscription']),
  pricingPlans: z.array(z.object({
    id: z.string(), enabled: z.boolean(), price: z.number(), trialDays: z.number(),
    strategy: z.enum(['once', 'monthly', 'yearly']), isPerSeat: z.boolean(),
    tiers: z.array(z.object({ perUnit: z.boolean(), minimum: z.number(), maximum: z.number(), price: z.number(), refId: z.string().optional() })).optional(),
  })).optional(),
  isUsageBased: z.boolean().optional(),
  requestedEndUser: z.boolean().optional(),
  requested: z.boolean().optional(),
  appRequestStats: z.object({}).passthrough().optional(),
  createdAt: z.string(),
  modifiedAt: z.string(),
});
// IMarketplaceInfo as install stores it: a flat app info.
const info = z.array(z.object({
  id: z.string(), name: z.string(), nameSlug: z.string(), version: z.string(), requiredApiVersion: z.string(),
  author: z.object({ name: z.string(), support: z.string(), homepage: z.string() }),
  description: z.string(), classFile: z.string(), iconFile: z.string(),
  categories: z.array(z.string()), status: z.string(), isVisible: z.boolean(), isPurchased: z.boolean(),
  isSubscribed: z.boolean(), isBundled: z.boolean(), createdDate: z.string(), modifiedDate: z.string(),
  price: z.number(), purchaseType: z.enum(['', 'buy', 'subscription']), isEnterpriseOnly: z.boolean().optional(),
})).length(1);

const problems = [];
const check = (what, schema, file) => {
  const r = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!r.success) for (const i of r.error.issues) problems.push(`${what}: ${i.path.join('.')}: ${i.message}`);
};
const user = z.object({ id: z.string(), username: z.string(), name: z.string(), nickname: z.string() });
const extras = {
  featured: z.object({ sections: z.array(z.object({ slug: z.string(), i18nLabel: z.string(), apps: z.array(listing) })).min(1) }),
  bundle: z.array(listing).min(1),
  requests: z.object({
    data: z.array(z.object({
      id: z.string(), appId: z.string(), requester: user.extend({ emails: z.array(z.string()) }),
      admins: z.array(user), workspaceId: z.string(), mesage: z.string(), seen: z.boolean(), seenAt: z.string(),
      notificationSent: z.boolean(), notificationSentAt: z.string(), createdAt: z.string(),
    })).min(1),
    meta: z.object({ limit: z.number(), offset: z.number(), sort: z.string(), filter: z.string(), total: z.number() }),
  }),
  screenshots: z.array(z.object({
    id: z.string(), appId: z.string(), fileName: z.string(), accessUrl: z.string(), thumbnailUrl: z.string(),
    createdAt: z.string(), modifiedAt: z.string(),
  })).min(1),
};
check('listings', z.array(listing).min(1), process.argv[2]);
check('info', info, process.argv[3]);
for (const arg of process.argv.slice(4)) {
  const [what, file] = arg.split('=');
  if (!extras[what]) problems.push(`unknown answer kind ${what}`);
  else check(what, extras[what], file);
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('valid');
