/** `npm run secret`: prints a new value for COLLAB_SECRET (the base64url of 32 random bytes). */
import { generateSecret } from './secret';

console.log(generateSecret());
