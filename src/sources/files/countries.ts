/**
 * English country names as they appear in commerce exports, to ISO 3166-1 alpha-2. Keys are
 * lower case; a mapping looks a name up after trimming and lower-casing it. Names that are not a
 * single country (e.g. "European Community", "Unspecified", "Channel Islands") are deliberately
 * absent: the event keeps the raw name and its contract quarantines it with the reason.
 */
export const COUNTRY_NAMES: Readonly<Record<string, string>> = {
  afghanistan: 'AF', albania: 'AL', algeria: 'DZ', andorra: 'AD', argentina: 'AR', armenia: 'AM',
  australia: 'AU', austria: 'AT', azerbaijan: 'AZ', bahrain: 'BH', bangladesh: 'BD', belarus: 'BY',
  belgium: 'BE', bolivia: 'BO', 'bosnia and herzegovina': 'BA', brazil: 'BR', bulgaria: 'BG',
  cambodia: 'KH', cameroon: 'CM', canada: 'CA', chile: 'CL', china: 'CN', colombia: 'CO',
  'costa rica': 'CR', croatia: 'HR', cyprus: 'CY', 'czech republic': 'CZ', czechia: 'CZ',
  denmark: 'DK', 'dominican republic': 'DO', ecuador: 'EC', egypt: 'EG', eire: 'IE', estonia: 'EE',
  finland: 'FI', france: 'FR', georgia: 'GE', germany: 'DE', ghana: 'GH', gibraltar: 'GI',
  greece: 'GR', guernsey: 'GG', 'hong kong': 'HK', hungary: 'HU', iceland: 'IS', india: 'IN',
  indonesia: 'ID', ireland: 'IE', 'isle of man': 'IM', israel: 'IL', italy: 'IT', japan: 'JP',
  jersey: 'JE', jordan: 'JO', kazakhstan: 'KZ', kenya: 'KE', 'korea, republic of': 'KR',
  'south korea': 'KR', kuwait: 'KW', latvia: 'LV', lebanon: 'LB', liechtenstein: 'LI',
  lithuania: 'LT', luxembourg: 'LU', malaysia: 'MY', malta: 'MT', mexico: 'MX', moldova: 'MD',
  monaco: 'MC', montenegro: 'ME', morocco: 'MA', netherlands: 'NL', 'the netherlands': 'NL',
  'new zealand': 'NZ', nigeria: 'NG', 'north macedonia': 'MK', norway: 'NO', oman: 'OM',
  pakistan: 'PK', peru: 'PE', philippines: 'PH', poland: 'PL', portugal: 'PT', qatar: 'QA',
  romania: 'RO', russia: 'RU', 'russian federation': 'RU', rsa: 'ZA', 'saudi arabia': 'SA',
  serbia: 'RS', singapore: 'SG', slovakia: 'SK', slovenia: 'SI', 'south africa': 'ZA',
  spain: 'ES', 'sri lanka': 'LK', sweden: 'SE', switzerland: 'CH', taiwan: 'TW', thailand: 'TH',
  tunisia: 'TN', turkey: 'TR', türkiye: 'TR', ukraine: 'UA', 'united arab emirates': 'AE',
  uae: 'AE', 'united kingdom': 'GB', uk: 'GB', 'great britain': 'GB', 'united states': 'US',
  'united states of america': 'US', usa: 'US', uruguay: 'UY', vietnam: 'VN', 'viet nam': 'VN',
};
