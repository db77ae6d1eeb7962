import { Type } from 'typebox';
import { LIMITS, ROLES } from './accounts.validate.ts';

const Role = Type.Enum(['admin', 'editor', 'author', 'reader'], { description: 'What the account may do.' });

export const ProfileSchema = Type.Object(
  {
    id: Type.Integer({ description: 'User id.' }),
    username: Type.String({ description: 'Unique, lowercase; the profile page is /@{username}.' }),
    displayName: Type.String({ description: 'Name shown on posts.' }),
    bio: Type.Union([Type.String(), Type.Null()], { description: 'Plain-text bio.' }),
    avatarUrl: Type.Union([Type.String(), Type.Null()], { description: 'Address of the avatar image.' }),
    role: Role,
    joinedAt: Type.String({ format: 'date-time', description: 'When the account was created.' }),
  },
  { $id: 'Profile', description: 'A public profile: never the email address.' },
);

export const AccountSchema = Type.Object(
  {
    id: Type.Integer({ description: 'User id.' }),
    email: Type.String({ description: 'Email address (lowercase).' }),
    username: Type.String({ description: 'Unique, lowercase username.' }),
    displayName: Type.String({ description: 'Name shown on posts.' }),
    bio: Type.Union([Type.String(), Type.Null()], { description: 'Plain-text bio.' }),
    avatarUrl: Type.Union([Type.String(), Type.Null()], { description: 'Address of the avatar image.' }),
    role: Role,
    verified: Type.Boolean({ description: 'Whether the email address is confirmed; unverified accounts cannot publish.' }),
    suspended: Type.Boolean({ description: 'Suspended accounts cannot log in.' }),
    createdAt: Type.String({ format: 'date-time', description: 'When the account was created.' }),
  },
  { $id: 'Account', description: 'Your own account.' },
);

const password = Type.String({ maxLength: LIMITS.password, description: 'At least 8 characters, not a common password.' });

export const SignupSchema = Type.Object(
  {
    email: Type.String({ maxLength: 254, description: 'Email address; a confirmation link is mailed to it.' }),
    username: Type.String({ maxLength: 30, description: '2–30 lowercase letters, digits or underscores.' }),
    password,
    displayName: Type.Optional(Type.String({ maxLength: LIMITS.displayName, description: 'Defaults to the username.' })),
    invite: Type.Optional(Type.String({ maxLength: 100, description: 'The invitation token, on invite-only blogs.' })),
  },
  { additionalProperties: false, description: 'A new account.' },
);

export const LoginSchema = Type.Object(
  {
    login: Type.String({ maxLength: 254, description: 'Email address or username.' }),
    password: Type.String({ maxLength: LIMITS.password, description: 'The password.' }),
  },
  { additionalProperties: false, description: 'Credentials.' },
);

export const SessionSchema = Type.Object(
  {
    token: Type.String({ description: 'Send as Authorization: Bearer <token>. Shown once.' }),
    expiresAt: Type.String({ format: 'date-time', description: 'When the token stops working (30 days).' }),
    user: AccountSchema,
  },
  { description: 'A new API session.' },
);

export const ProfilePatchSchema = Type.Object(
  {
    displayName: Type.Optional(Type.String({ maxLength: LIMITS.displayName, description: 'Name shown on posts.' })),
    bio: Type.Optional(Type.Union([Type.String({ maxLength: LIMITS.bio }), Type.Null()], { description: 'Plain-text bio; null clears it.' })),
    avatarUrl: Type.Optional(
      Type.Union([Type.String({ maxLength: LIMITS.avatarUrl }), Type.Null()], { description: 'http(s) address of an image; null clears it.' }),
    ),
  },
  { additionalProperties: false, description: 'Profile fields to change.' },
);

export const PasswordChangeSchema = Type.Object(
  {
    currentPassword: Type.String({ maxLength: LIMITS.password, description: 'The password now.' }),
    newPassword: password,
  },
  { additionalProperties: false, description: 'Ends your other sessions.' },
);

export const EmailChangeSchema = Type.Object(
  {
    email: Type.String({ maxLength: 254, description: 'The new address; it takes effect when the link mailed to it is followed.' }),
    password: Type.String({ maxLength: LIMITS.password, description: 'Your password, to confirm.' }),
  },
  { additionalProperties: false, description: 'Starts an email change.' },
);

export const AccountDeleteSchema = Type.Object(
  { password: Type.String({ maxLength: LIMITS.password, description: 'Your password, to confirm.' }) },
  { additionalProperties: false, description: 'Deletes your account.' },
);

export const ForgotSchema = Type.Object(
  {
    email: Type.String({ maxLength: 254, description: "The account's email address." }),
  },
  { additionalProperties: false, description: 'Asks for a reset link.' },
);

export const ResetSchema = Type.Object(
  {
    token: Type.String({ maxLength: 100, description: 'The token from the emailed link (/password/reset/{token}).' }),
    password,
  },
  { additionalProperties: false, description: 'Sets a new password; ends every session.' },
);

export const VerifySchema = Type.Object(
  {
    token: Type.String({ maxLength: 100, description: 'The token from the emailed link (/verify/{token}).' }),
  },
  { additionalProperties: false, description: 'Confirms an email address.' },
);

export const TokenCreateSchema = Type.Object(
  {
    name: Type.String({ maxLength: LIMITS.tokenName, description: 'What will use the token.' }),
    scopes: Type.Array(Type.Enum(['read', 'write']), { minItems: 1, maxItems: 2, description: 'read, write or both.' }),
  },
  { additionalProperties: false, description: 'A new personal access token.' },
);

export const TokenSchema = Type.Object(
  {
    id: Type.Integer({ description: 'Token id (for revoking).' }),
    name: Type.String({ description: 'What uses it.' }),
    scopes: Type.Array(Type.String(), { description: 'read and/or write.' }),
    createdAt: Type.String({ format: 'date-time', description: 'When it was made.' }),
    lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Last use (to the minute), or null.' }),
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Expiry, or null for none.' }),
  },
  { description: 'A personal access token (never the token itself).' },
);

// The admin's forms at /admin/users (no API route takes these commands).

export const RoleChangeSchema = Type.Object({ role: Type.Enum([...ROLES]) }, { additionalProperties: false });

/** Suspending an account (or reinstating it): suspended unless told otherwise. */
export const SuspendSchema = Type.Object({ suspended: Type.Optional(Type.Boolean({ default: true })) }, { additionalProperties: false });

export const InviteSchema = Type.Object(
  { email: Type.String({ maxLength: 254 }), role: Type.Optional(Type.Enum([...ROLES], { default: 'author' })) },
  { additionalProperties: false },
);

/** Who may sign up; the service names the choice (signupMode, as the site settings do). */
export const SignupModeSchema = Type.Object({ mode: Type.String({ maxLength: 20 }) }, { additionalProperties: false });
