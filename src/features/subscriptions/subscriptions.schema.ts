import { Type } from 'typebox';

// One schema per command, for the JSON API and the forms alike (platform/http/input.ts).

export const FrequencySchema = Type.Union([Type.Literal('instant'), Type.Literal('weekly')], {
  description: 'Each new post at once, or a weekly digest (Mondays, 08:00 in the site time zone).',
});

/**
 * Subscribe: POST /api/v1/subscriptions, the /subscribe form (email and frequency; it
 * takes no author, as it ignores the session) and a profile's button (frequency; the
 * author is the profile's). An email's form and whether it is one are the service's to check.
 */
export const SubscribeSchema = Type.Object(
  {
    email: Type.Optional(Type.String({ maxLength: 254 })),
    frequency: Type.Optional(FrequencySchema),
    author: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);

/** Change how often: PATCH /api/v1/subscriptions/{id} and the select on /settings/subscriptions. */
export const FrequencyChangeSchema = Type.Object({ frequency: FrequencySchema }, { additionalProperties: false });
