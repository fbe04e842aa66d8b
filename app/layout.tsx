import localFont from 'next/font/local';
import type { Metadata } from 'next';
import type { ReactNode } from 'react';

import './globals.css';

// Served from the npm package: nothing is fetched from the internet at build or run time.
const inter = localFont({
  src: '../node_modules/@fontsource-variable/inter/files/inter-latin-wght-normal.woff2',
  display: 'swap',
  variable: '--font-inter',
});

export const metadata: Metadata = {
  title: 'Inkwell',
  description: 'Real-time collaborative documents',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" className={inter.variable}>
      <body>{children}</body>
    </html>
  );
}
