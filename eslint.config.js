// ESLint flat config: typescript-eslint's recommended rules, type-aware where it pays.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'bin/', '.tenantgate/', 'coverage/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // The proxy never imports controllers or webhooks; the policy engine knows no transport (design.md).
    files: ['proxy/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/controllers/**', '**/webhooks/**', '**/cmd/**'] }],
    },
  },
  {
    files: ['api/**/*.ts', 'kube/**/*.ts', 'policies/**/*.ts', 'lib/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['**/controllers/**', '**/webhooks/**', '**/proxy/**', '**/cmd/**'] },
      ],
    },
  },
);
