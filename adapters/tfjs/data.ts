
/** Program data in and observation data out, spelled as the program format spells them. */
export { decode, encode } from '../program/data.ts';
