// The most common passwords of at least 8 characters, from public breach
// corpora's top lists. Short on purpose: it stops the guesses that come first.
const LIST = `password 12345678 123456789 1234567890 qwertyuiop password1 iloveyou sunshine1 princess1
football baseball welcome1 welcome123 letmein1 abc12345 abcd1234 qwerty123 qwerty12 1q2w3e4r 1qaz2wsx
passw0rd password123 password12 trustno1 superman dragon12 master12 monkey12 shadow12 michael1 jennifer
11111111 00000000 12341234 87654321 88888888 99999999 123123123 11223344 aaaaaaaa asdfghjk asdfghjkl
zxcvbnm1 zaq12wsx qazwsxedc q1w2e3r4 computer internet starwars whatever freedom1 charlie1 liverpool
chelsea1 arsenal1 football1 basketball soccer12 hello123 changeme admin123 administrator lovely12
iloveyou1 fuckyou1 123qweasd qweasdzxc 1234qwer qwer1234 987654321 123654789 147258369 696969696
mustang1 michelle jordan23 harley12 ranger12 buster12 thomas12 hunter12 tigger12 batman12 matrix12
sunshine princess welcome letmein123 secret12 mypassword default1 test1234 testtest guest123 inkwell1`
  .split(/\s+/)
  .filter(Boolean);

const COMMON = new Set(LIST);

/** True for a password on the common-passwords list (case-insensitive). */
export function isCommonPassword(password: string): boolean {
  return COMMON.has(password.toLowerCase());
}
