// chaos/campaign.ts
export type ChaosScale = 'ci' | 'long';
export interface CampaignReport { readonly name: string; readonly passed: boolean; readonly figures: Readonly<Record<string, number | string>>; readonly failures: readonly string[] }
export interface Campaign { readonly name: string; readonly title: string; run(scale: ChaosScale): Promise<CampaignReport> }
