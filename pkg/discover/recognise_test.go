package discover

import "testing"

func TestClassify(t *testing.T) {
	tests := []struct {
		name, exe, title string
		cli              bool
		role             Role
		pool             string
	}{
		{"fpm master by title", "php-fpm8.2", "php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)", false, RoleFPMMaster, ""},
		{"fpm worker by title", "php-fpm8.2", "php-fpm: pool www", false, RoleFPMWorker, "www"},
		{"worker title wins over an odd binary name (Nix wrapper)", ".php-fpm-wrapped", "php-fpm: pool api", false, RoleFPMWorker, "api"},
		{"untitled fpm binary is a starting master", "php-fpm82", "/usr/sbin/php-fpm82 -F", false, RoleFPMMaster, ""},
		{"docker image fpm", "php-fpm", "php-fpm", false, RoleFPMMaster, ""},
		{"cli off", "php8.2", "php -r sleep(5);", false, 0, ""},
		{"cli on", "php8.2", "php -r sleep(5);", true, RoleCLI, ""},
		{"cli plain php", "php", "php artisan queue:work", true, RoleCLI, ""},
		{"cli alpine php82", "php82", "php82 x.php", true, RoleCLI, ""},
		{"php-cgi is not reported", "php-cgi8.2", "php-cgi", true, 0, ""},
		{"fpm exporter is not php", "php-fpm_exporter", "php-fpm_exporter server", true, 0, ""},
		{"phpstan is not php", "phpstan", "phpstan analyse", true, 0, ""},
		{"grep for a title is not fpm", "grep", "grep php-fpm: pool", true, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			role, pool := classify(tt.exe, tt.title, tt.cli)
			if role != tt.role || pool != tt.pool {
				t.Errorf("classify(%q, %q, %v) = %v %q, want %v %q", tt.exe, tt.title, tt.cli, role, pool, tt.role, tt.pool)
			}
		})
	}
}

func TestExeBaseIgnoresDeletedSuffix(t *testing.T) {
	if got := exeBase("/usr/sbin/php-fpm8.2 (deleted)"); got != "php-fpm8.2" {
		t.Errorf("exeBase = %q, want php-fpm8.2", got)
	}
}

func TestIsVersionSuffix(t *testing.T) {
	for s, want := range map[string]bool{
		"": true, "8": true, "8.2": true, "82": true, "7.4": true,
		".": false, "8.": false, ".2": false, "8.2.1": false, "-cgi": false, "8.2-dev": false,
	} {
		if got := isVersionSuffix(s); got != want {
			t.Errorf("isVersionSuffix(%q) = %v, want %v", s, got, want)
		}
	}
}
